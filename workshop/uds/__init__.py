"""UDS (ISO 14229-1) client side over ISO-TP, on udsoncan."""
