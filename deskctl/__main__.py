from deskctl.cli import main

main()
