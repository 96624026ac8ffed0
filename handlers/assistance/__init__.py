"""Needs and offers: stated plainly (a form, ``NEED: …``) they are recorded at once with a
receipt; read from a sentence they are echoed back and recorded on Confirm; then edited.
``reading`` takes the fields from a sentence, ``recording`` proposes and records, ``changes``
corrects and withdraws, and ``receipt`` is what the person reads back."""
