"""The API's routes, one module each: health, push, pull, reports (a lead's summary and exports)."""
