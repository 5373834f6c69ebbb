"""Reading the back-office export (format ``pcpr-export/1``)."""
