from replayterm.cli import main

raise SystemExit(main())
