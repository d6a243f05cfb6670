"""The scaling benchmarks' model: an L-hidden-layer ReLU MLP with softmax cross-entropy, as a model file."""


def mlp_text(L):
    lines = [f'title = "MLP with {L} hidden layers"', "[inputs]", 'x = ["D_0", 1]',
             'y = { shape = ["N_c", 1], one_hot = true }', "[params]"]
    for k in range(1, L + 1):
        lines += [f'W{k} = ["D_{k}", "D_{k-1}"]', f'b{k} = ["D_{k}", 1]']
    lines += [f'U = ["N_c", "D_{L}"]', 'c = ["N_c", 1]', "[forward]"]
    prev = "x"
    for k in range(1, L + 1):
        lines += [f'z{k} = "W{k} @ {prev} + b{k}"', f'h{k} = "relu(z{k})"']
        prev = f"h{k}"
    lines += [f'theta = "U @ {prev} + c"', 'yhat = "softmax(theta)"', 'J = "cross_entropy(y, yhat)"']
    return "\n".join(lines) + "\n"
