/// Docket case domain: pure Swift, no I/O, no clock reads.
public enum CaseDomainModule {}
