"""extract: exact, checked numbers from 政府信息公开工作年度报告 (government information-disclosure annual reports)."""
from .ocr import OcrEngine
from .pipeline import ExtractOptions, Extractor, extract, extract_document
from .records import Cell, Check, Document, ExtractError, Metadata, Reading, Report, Source

__version__ = "0.1.0"
__all__ = ["Extractor", "ExtractOptions", "OcrEngine", "extract", "extract_document", "Cell", "Check", "Document",
           "ExtractError", "Metadata", "Reading", "Report", "Source"]
