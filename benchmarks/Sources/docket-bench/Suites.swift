/// The registered suites, in the order they run. Add one line per suite file.
func allSuites() -> [BenchSuite] {
    [
        eventLogSuite(),
        calendarSuite(),
        domainSuite(),
        codecSuite(),
        projectionsSuite(),
        caseListSuite(),
        commandsSuite(),
        auditSuite(),
    ]
}
