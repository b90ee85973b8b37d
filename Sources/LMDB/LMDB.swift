public enum LMDBPlaceholder {}
