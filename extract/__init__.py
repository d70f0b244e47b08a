"""extract: exact, checked numbers from 政府信息公开工作年度报告 (government information-disclosure annual reports)."""
from .pipeline import ExtractOptions, Extractor, extract, extract_document
from .records import Cell, Check, Document, ExtractError, Metadata, Reading, Report, Source

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "OcrEngine":  # from the OCR stage, which loads OpenCV: only when asked for
        from .ocr import OcrEngine

        return OcrEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Extractor", "ExtractOptions", "OcrEngine", "extract", "extract_document", "Cell", "Check", "Document",
           "ExtractError", "Metadata", "Reading", "Report", "Source"]
