"""Stage "pipeline": select public objects, map them to OCPI, validate, stamp timestamps."""
