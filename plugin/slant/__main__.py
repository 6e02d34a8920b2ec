from slant.cli.main import main

raise SystemExit(main())
