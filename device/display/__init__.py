"""The wearer's OLED screens and push button (luma.oled / luma.core, gpiozero)."""
