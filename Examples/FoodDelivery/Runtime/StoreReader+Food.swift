import DemoKit

extension StoreReader {
    /// Each order's state in this service's view.
    public func orderStates() async throws -> [String: String] {
        try await read { database in
            var states: [String: String] = [:]
            for row in try database.query("SELECT order_id, state FROM order_states") {
                if case .text(let order) = row[0], case .text(let state) = row[1] { states[order] = state }
            }
            return states
        }
    }

    /// The states each order passed through, in this service's view.
    public func passedStates() async throws -> [String: [String]] {
        try await read { database in
            var passed: [String: [String]] = [:]
            for row in try database.query("SELECT order_id, passed FROM order_states") {
                if case .text(let order) = row[0], case .text(let history) = row[1] {
                    passed[order] = history.split(separator: ",").map(String.init)
                }
            }
            return passed
        }
    }
}
