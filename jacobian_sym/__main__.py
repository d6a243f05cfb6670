from jacobian_sym.cli import main

main()
