from inbox_ocr.training.synth.generator import main

raise SystemExit(main())
