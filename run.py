#!/usr/bin/env python3
"""BIDS-App entry point (docs/bids.md §11): ``run.py [BIDS_DIR] OUTPUT_DIR {participant,group}``."""

from bids_app.cli import main

raise SystemExit(main())
