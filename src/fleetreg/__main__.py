from fleetreg.cli import main

main()
