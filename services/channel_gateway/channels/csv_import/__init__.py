"""Phone and mail orders typed into a spreadsheet: CSV rows in, no channel API out."""
