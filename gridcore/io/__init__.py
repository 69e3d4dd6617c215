"""Import and export: CSV, Excel, GeoJSON; previews with row-level errors."""
