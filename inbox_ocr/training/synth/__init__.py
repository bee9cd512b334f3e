"""Synthetic invoices: many layout families, seven label languages, distractors next to every
value, rendered to PDF with a text layer (and to images for the OCR path). See generator.py.

    generator.py    generate / generate_many / families, SynthInvoice, the command line
    layouts*.py     the layout families; layout_cn.py the Chinese VAT invoice (增值税发票)
    content.py      an invoice's content and arithmetic; company.py, ids.py, locale.py the parties
    labels.py, phrases.py, formats.py   what is printed, in which language and format
    canvas.py, blocks.py, parties.py, table.py   drawing; image.py page images with scan noise
"""

from inbox_ocr.training.synth.generator import SynthInvoice, families, generate, generate_many, render_image

__all__ = ["SynthInvoice", "families", "generate", "generate_many", "render_image"]
