"""Training and honest validation of the learned field scorer (inbox_ocr/understand/scorer.py).

Not part of the running product: nothing in the layers imports this package (an import-linter
contract says so). It reads documents with the read stage and analyses them with the understand
stage, so it sits outside both.

    devsets.py    the dev documents of ../shared/datasets with their truth, grouped by source
    synth/        the generator of synthetic invoices (layout families, languages, distractors)
    dataset.py    candidates and features of many documents, labelled against their truth
    train.py      `python -m inbox_ocr.training.train`: fit, calibrate, export the shipped model
    evaluate.py   leave-one-source-out, cross-validation and held-out layouts; the report tables
"""
