import DabbaContracts
import Foundation

extension ConsolePages {
    /// Each service's contract check against the catalog: passed or the failing findings.
    func contracts(_ query: [String: String]) async throws -> String {
        guard let run = model.configuration.contractReports else {
            let body = HTML.notice(
                "warn", "No service executables to check: start <code>dabba ui --bin-path DIR</code> (the build's bin directory) to run each service's contract check.",
                id: "contracts-unavailable")
            return page("Contracts", section: "Contracts", body)
        }
        let results = await run()
        let passed = results.filter { if case .success(let report) = $0.report { report.passed } else { false } }.count
        var body = HTML.notice(
            passed == results.count ? "ok" : "error", "\(passed) of \(results.count) service(s) honour the catalog.", id: "contracts-summary")
        body += HTML.table(
            id: "contracts", headers: ["Service", "Group", "Handles", "Emits", "Result"],
            rows: results.map { result in
                switch result.report {
                case .success(let report):
                    let outcome =
                        report.passed
                        ? "<span class=\"badge good\">passed</span>"
                        : "<span class=\"badge bad\">failed</span><ul>"
                            + report.failures.map { "<li>\(HTML.escape($0.line(service: report.service)))</li>" }.joined() + "</ul>"
                    return [HTML.escape(result.service), HTML.escape(report.groupID), HTML.escape(report.handles.joined(separator: ", ")),
                            HTML.escape(report.emits.joined(separator: ", ")), outcome]
                case .failure(let error):
                    return [HTML.escape(result.service), "–", "–", "–", "<span class=\"badge bad\">no report</span> " + HTML.escape(error.message)]
                }
            }, rowIDs: results.map(\.service))
        return page("Contracts", section: "Contracts", body)
    }
}
