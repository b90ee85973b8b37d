/// Projections: the read side (issue 4).
public enum ProjectionsModule {}
