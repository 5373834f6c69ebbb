from pcpr_publish.cli import main

main()
