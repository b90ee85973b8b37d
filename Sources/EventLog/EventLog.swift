import LMDB
public enum EventLogPlaceholder {}
