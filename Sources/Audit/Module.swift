/// Audit: replay, export, backup (issue 6).
public enum AuditModule {}
