"""Names of the CAN addressing schemes: vocabulary shared by vehicle data and the transport."""

ADDRESSING_11BIT = "normal_11bit"
ADDRESSING_29BIT_FIXED = "normal_fixed_29bit"
ADDRESSINGS = (ADDRESSING_11BIT, ADDRESSING_29BIT_FIXED)
