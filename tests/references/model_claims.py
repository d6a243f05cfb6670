"""True claims about the model files and the notes' identities, as a textbook or a course writes them
(mse is ½‖P − Y‖² summed, so ∂J/∂P = P − Y; softmax with cross-entropy gives ŷ − y; σ′ = σ(1 − σ);
tanh′ = 1 − tanh²). Test material: each is checked against central differences of the independent
NumPy forward (``tests/oracle.py``) before it is used, and never read by the package.

A claim names the model's inputs, parameters and forward names, and (one_layer only) its error
signals delta1, delta2 in the notes' layout (rows)."""

#: model file → [(wrt, a true claim)]
MODEL_CLAIMS = {
    "one_layer.toml": [
        ("W", "delta2.T @ x.T"), ("W", "((U.T @ (yhat - y)) * relu_prime(z)) @ x.T"), ("U", "(yhat - y) @ h.T"),
        ("b1", "(U.T @ (yhat - y)) * relu_prime(z)"), ("b2", "yhat - y"),
        ("x", "W.T @ ((U.T @ (yhat - y)) * relu_prime(z))"), ("delta1", "(yhat - y).T"),
        ("delta2", "(delta1 @ U) * relu_prime(z).T"),
    ],
    "residual.toml": [
        ("b2", "yhat - y"), ("W2", "(yhat - y) @ r.T"), ("b1", "(W2.T @ (yhat - y)) * relu_prime(z)"),
        ("x", "W2.T @ (yhat - y) + W1.T @ ((W2.T @ (yhat - y)) * relu_prime(z))"),
    ],
    "row_softmax.toml": [("b", "yhat - y"), ("W", "x.T @ (yhat - y)"), ("x", "(yhat - y) @ W.T")],
    "two_layer_mse.toml": [
        ("b3", "yhat - y"), ("W3", "(yhat - y) @ h2.T"), ("b2", "(W3.T @ (yhat - y)) * (1 - h2 * h2)"),
        ("W2", "((W3.T @ (yhat - y)) * (1 - h2 * h2)) @ h1.T"),
    ],
    "logistic.toml": [("b", "p - y"), ("w", "x @ (p - y)")],
    # the cookbook's (x − μ)ᵀ P (x − μ): ∂/∂μ = −(P + Pᵀ)(x − μ), ∂/∂P = (x − μ)(x − μ)ᵀ, each halved
    "mahalanobis.toml": [("mu", "-0.5 * (P + P.T) @ d"), ("P", "0.5 * d @ d.T"), ("x", "0.5 * (P + P.T) @ (x - mu)")],
    "autoencoder_tied.toml": [
        ("c", "xr - x"), ("b", "(W @ (xr - x)) * h * (1 - h)"),
        ("W", "h @ (xr - x).T + ((W @ (xr - x)) * h * (1 - h)) @ x.T"),
    ],
    "attention.toml": [("V", "(A @ X).T @ (A @ X @ V - Y)"), ("V", "X.T @ A.T @ (O - Y)")],
    "cross_attention.toml": [("V", "(A @ Z).T @ (A @ Z @ V - Y)"), ("V", "Z.T @ A.T @ (O - Y)")],
    "glu.toml": [
        ("V", "X.T @ ((out - Y) * gate)"), ("W", "X.T @ ((out - Y) * lin * gate * (1 - gate))"),
        ("X", "((out - Y) * gate) @ V.T + ((out - Y) * lin * gate * (1 - gate)) @ W.T"),
    ],
    "layer_norm.toml": [("b", "sum(out - Y, axis=0)"), ("g", "sum((out - Y) * xhat, axis=0)")],
    "batch_norm.toml": [("b", "sum(out - Y, axis=0)"), ("g", "sum((out - Y) * xhat, axis=0)")],
    "multi_head_attention.toml": [("W_o", "H.T @ (H @ W_o - Y)"), ("W_o", "H.T @ (O - Y)")],
    "transformer_block.toml": [("b2", "sum(out - Y, axis=0)"), ("W2", "gelu(u).T @ (out - Y)")],
    "post_ln_block.toml": [("beta2", "sum(h2 - Y, axis=0)")],
    "rmsnorm.toml": [("g", "r.T @ ((out - Y) * X)")],
    # Salimans & Kingma 2016, eq. (3): ∇_g = ∇_w·v/‖v‖, ∇_v = (g/‖v‖)∇_w − (g∇_g/‖v‖²)v, ∇_w = Xᵀ(out − Y)
    "weight_norm.toml": [
        ("g", "v.T @ X.T @ (out - Y) / norm(v)"),
        ("v", "g / norm(v) * X.T @ (out - Y) - g * (v.T @ X.T @ (out - Y)) / (norm(v) * norm(v) * norm(v)) * v"),
    ],
    "cosine.toml": [("w", "x / (norm(w) * norm(x)) - (w.T @ x) * w / (norm(w) * norm(w) * norm(w) * norm(x))")],
    # Cho et al. 2014: h' = (1 − z) ∘ n + z ∘ h, so ∂J/∂h' = h' − y and the update gate's pre-activation
    # reads (h − n) ∘ z ∘ (1 − z)
    "gru_step.toml": [("Wz", "x.T @ ((hn - y) * (h - n) * z * (1 - z))"),
                      ("Wn", "x.T @ ((hn - y) * (1 - z) * (1 - n * n))")],
    # an LSTM step (Graves 2012, §4.6): h' = o ∘ tanh(c'), c' = f ∘ c + i ∘ g
    "lstm_step.toml": [("Wo", "x.T @ ((hn - y) * tc * o * (1 - o))"),
                       ("c", "(hn - y) * o * (1 - tc * tc) * f")],
    # nanoGPT's fused c_attn: the squared error's signal at O, and ∂J/∂Wqkv = Xᵀ ∂J/∂P for P = X Wqkv
    "attention_fused_qkv.toml": [("delta_1", "O - Y"), ("Wqkv", "X.T @ delta3")],
    # a linear model's gradient through its residual's signal (PyTorch's HuberLoss on r = Xw + b − y)
    "huber_regression.toml": [("w", "(delta1 @ X).T"), ("w", "X.T @ delta1.T")],
    # Kim 2014: the softmax layer after max-over-time pooling, ŷ − y and gᵀ(ŷ − y)
    "cnn_text.toml": [("c", "yhat - y"), ("U", "g.T @ (yhat - y)")],
    # softmax regression with integer labels (D2L §4.1): P − onehot(y), summed over the batch
    "softmax_labels.toml": [("b", "sum(P - onehot(y), axis=0)"), ("W", "X.T @ (P - onehot(y))")],
    # ½ Σₜ xₜᵀ A xₜ with A symmetric: ∂J/∂X = X A (The Matrix Cookbook (81), row by row)
    "quadratic_form_sym.toml": [("X", "X @ A")],
    # The Matrix Cookbook (57), (61), (86): ∂/∂μ and ∂/∂Σ of ½ rᵀΣ⁻¹r + ½ log|Σ| for a general Σ
    "gaussian_nll.toml": [("mu", "-0.5 * (inv(Sigma) + inv(Sigma).T) @ r"),
                          ("Sigma", "0.5 * inv(Sigma).T - 0.5 * inv(Sigma).T @ r @ r.T @ inv(Sigma).T")],
    # fastText (Joulin et al. 2017): the softmax layer over the mean embedding x
    "bag_of_embeddings.toml": [("c", "P - onehot(y)"), ("U", "x.T @ (P - onehot(y))")],
}

#: the notes' identities (section → [(wrt, a true claim)]), the notes' layout: ∂z/∂x has a row per
#: element of z; the generic f (2.4) and g (1.2) have no NumPy value and are left out
IDENTITY_CLAIMS = {
    "2.1": [("x", "W")],
    "2.2": [("x", "W.T")],
    "2.3": [("x", "eye(n)")],
    "2.4-relu": [("x", "diag(relu_prime(x))")],
    "2.4-sigmoid": [("x", "diag(sigmoid(x) * (1 - sigmoid(x)))")],
    "2.4-tanh": [("x", "diag(1 - tanh(x) * tanh(x))")],
    "2.4-exp": [("x", "diag(exp(x))")],
    "2.5": [("W", "delta.T @ x.T")],
    "2.6": [("W", "x.T @ delta")],
    "2.7": [("theta", "(yhat - y).T")],
    "2.7-softmax": [("theta", "diag(yhat) - yhat @ yhat.T")],
}
