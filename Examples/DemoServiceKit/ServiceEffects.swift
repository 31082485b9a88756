import DabbaInbox
import DabbaEvents
import DabbaPipeline
import DemoKit

/// One row per side effect a service applied, in its own store: the demos' and tests' duplicate-effect check counts
/// repeated keys.
public enum ServiceEffects {
    /// The table.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS effects (effect TEXT NOT NULL, event_id TEXT NOT NULL)"
    ]

    /// Counts side effects applied more than once (a row per extra application).
    public static let duplicateEffectsQuery =
        "SELECT CAST(COALESCE(SUM(n - 1), 0) AS BIGINT) FROM (SELECT COUNT(*) AS n FROM effects GROUP BY effect HAVING COUNT(*) > 1) AS repeated"

    /// Records a side effect; the same key twice is a duplicate effect.
    /// - Parameters:
    ///   - effect: A key naming the effect (`stock:ord-1`, `settle:UPI0000001`).
    ///   - context: The handled event (its id is stored for diagnosis).
    ///   - database: The event's transaction.
    public static func record(_ effect: String, context: EventContext, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO effects (effect, event_id) VALUES (?, ?)", [.text(effect), .text(context.envelope.id)])
    }

    /// The database of the handled event, or a permanent failure when the service runs without an inbox.
    /// - Parameters:
    ///   - context: The event context.
    ///   - system: The example system, for the message.
    /// - Returns: The event's transaction.
    /// - Throws: ``PermanentError`` when there is no inbox.
    public static func database(_ context: EventContext, system: String) throws -> any InboxTransaction {
        guard let database = context.database else {
            throw PermanentError(
                HandlerFailure(
                    "the \(system) services keep their state in the inbox database: do not start them with --inbox none"
                ))
        }
        return database
    }
}

extension StoreReader {
    /// Side effects applied more than once, from the service's `effects` table (0 when every effect happened
    /// exactly once; see ``ServiceEffects``).
    public func duplicateEffects() async throws -> Int {
        try await integer(ServiceEffects.duplicateEffectsQuery)
    }
}

extension ServiceEffects {
    /// Effects applied more than once in each service's SQLite store (`<directory>/<service>.sqlite`).
    /// - Returns: The total, and `service count` per service for the summary.
    public static func duplicates(of services: [String], in directory: String) async throws
        -> (total: Int, perService: [String])
    {
        var total = 0
        var perService: [String] = []
        for name in services {
            let count = try await StoreReader(path: "\(directory)/\(name).sqlite").duplicateEffects()
            total += count
            perService.append("\(name) \(count)")
        }
        return (total, perService)
    }
}

extension Pipeline {
    /// Declares every event type of the topics a service reads that it has no handler for as deliberately ignored,
    /// so such records are acknowledged rather than dead-lettered.
    /// - Parameters:
    ///   - types: The types on the topics it reads.
    ///   - handled: The types it handles.
    public mutating func ignoreOthers(of types: [any Event.Type], handled: [any Event.Type]) {
        let names = Set(handled.map { $0.eventType })
        for type in types where !names.contains(type.eventType) {
            ignore(type.eventType, because: "\(service) does not act on it")
        }
    }
}
