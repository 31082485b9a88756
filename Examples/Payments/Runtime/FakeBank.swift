import DabbaInbox
import DemoKit
import Foundation
import PaymentsDomain

/// How the fake bank behaves right now: the demo and the tests change it while the switch runs, through a small JSON
/// file the bank reads on every call.
public struct BankConditions: Codable, Sendable, Equatable {
    /// The share of calls that fail (0–1): half never reach the bank, half are applied and their answer is lost.
    public var failureRate: Double
    /// Whether the bank is down (every call fails without reaching it).
    public var down: Bool
    /// How long each call takes, in milliseconds.
    public var latencyMilliseconds: Int

    /// A healthy bank.
    public static let healthy = BankConditions(failureRate: 0, down: false, latencyMilliseconds: 2)

    /// Creates conditions.
    public init(failureRate: Double, down: Bool, latencyMilliseconds: Int) {
        self.failureRate = failureRate
        self.down = down
        self.latencyMilliseconds = latencyMilliseconds
    }

    /// Writes conditions where a bank reads them (see ``ControlFile``).
    /// - Parameter path: The control file.
    /// - Throws: File errors.
    public func write(to path: String) throws { try ControlFile.write(self, to: path) }

    /// The conditions in a control file; a healthy bank when there is none.
    /// - Parameter path: The control file, or nil.
    /// - Returns: The conditions.
    /// - Throws: ``BankError`` when the file exists but is not valid.
    public static func read(from path: String?) throws -> BankConditions {
        do {
            return try ControlFile.read(BankConditions.self, from: path, or: .healthy)
        } catch {
            throw BankError(.control, "\(error)")
        }
    }
}

/// A failed bank call.
public struct BankError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The call never reached the bank (it is down, or the network dropped the request).
        public static let unreachable = Code("unreachable")
        /// The bank applied the call but its answer was lost: only a repeat with the same key tells the outcome.
        public static let responseLost = Code("responseLost")
        /// The control file is not valid.
        public static let control = Code("control")
        public var description: String { name }
    }

    /// The code.
    public var code: Code
    /// The message.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "bank \(code): \(message)" }
}

/// The bank's answer to a transfer, with its reference.
public struct BankReceipt: Sendable, Hashable {
    /// Approved, declined or timed out at the bank.
    public var answer: BankAnswer
    /// The bank's reference.
    public var reference: String
}

/// A fake remitter bank with its own store (a SQLite file apart from the switch's): a transfer is keyed by the UPI
/// transaction id, so a repeated call (after a lost answer, a retry or a crash of the switch) returns the first
/// call's answer and never applies the transfer twice. Its calls run on the store's own thread, never on the
/// cooperative pool.
public final class FakeBank: Sendable {
    private let store: SQLiteInbox
    private let controlPath: String?

    /// The bank's tables.
    static let migrations = [
        "CREATE TABLE IF NOT EXISTS transfers (transaction_id TEXT PRIMARY KEY, payer TEXT NOT NULL, payee TEXT NOT NULL, amount_paise INTEGER NOT NULL, answer TEXT NOT NULL, reference TEXT NOT NULL, calls INTEGER NOT NULL)",
        // One row each time money moves at the bank: the check that a transfer was applied once.
        "CREATE TABLE IF NOT EXISTS applications (transaction_id TEXT NOT NULL, amount_paise INTEGER NOT NULL)",
    ]

    /// Opens (or creates) the bank's store.
    /// - Parameters:
    ///   - path: The bank's SQLite file.
    ///   - controlPath: The conditions file (nil: always healthy).
    /// - Throws: ``InboxError`` when the store cannot be opened.
    public init(path: String, controlPath: String?) async throws {
        store = try SQLiteInbox(path: path)
        self.controlPath = controlPath
        try await store.migrate(Self.migrations)
    }

    /// Asks the bank to move money.
    /// - Returns: The bank's answer (the first call's, for a repeated transaction id).
    /// - Throws: ``BankError`` when the call failed (its outcome then unknown to the caller).
    public func transfer(transactionId: String, payer: String, payee: String, amountPaise: Int) async throws
        -> BankReceipt
    {
        let controlPath = self.controlPath
        return try await store.withConnection { database in
            let conditions = try BankConditions.read(from: controlPath)
            if conditions.latencyMilliseconds > 0 {
                Thread.sleep(forTimeInterval: Double(conditions.latencyMilliseconds) / 1000)
            }
            if conditions.down { throw BankError(.unreachable, "the bank is down") }
            let roll = Double.random(in: 0..<1)
            if roll < conditions.failureRate / 2 {
                throw BankError(.unreachable, "the request for \(transactionId) did not reach the bank")
            }
            let receipt: BankReceipt
            let rows = try database.query(
                "SELECT answer, reference FROM transfers WHERE transaction_id = ?", [.text(transactionId)])
            if let row = rows.first, let answer = row[0].textValue.flatMap(BankAnswer.init(rawValue:)),
                let reference = row[1].textValue
            {
                _ = try database.execute(
                    "UPDATE transfers SET calls = calls + 1 WHERE transaction_id = ?", [.text(transactionId)])
                receipt = BankReceipt(answer: answer, reference: reference)
            } else {
                let answer = BankAnswer.decide(transactionId: transactionId)
                let reference = "DABBABANK-\(transactionId)"
                _ = try database.execute(
                    "INSERT INTO transfers (transaction_id, payer, payee, amount_paise, answer, reference, calls) VALUES (?, ?, ?, ?, ?, ?, 1)",
                    [
                        .text(transactionId), .text(payer), .text(payee), .integer(Int64(amountPaise)),
                        .text(answer.rawValue), .text(reference),
                    ])
                if answer == .approved {
                    _ = try database.execute(
                        "INSERT INTO applications (transaction_id, amount_paise) VALUES (?, ?)",
                        [.text(transactionId), .integer(Int64(amountPaise))])
                }
                receipt = BankReceipt(answer: answer, reference: reference)
            }
            if roll < conditions.failureRate {
                throw BankError(.responseLost, "the bank's answer for \(transactionId) was lost")
            }
            return receipt
        }
    }

    /// What the bank applied: approved transfers with their amounts, and how many times money moved beyond once
    /// per transaction (0 unless a transfer was applied twice).
    public func audit() async throws -> BankAudit {
        try await store.withConnection { database in
            var approved: [String: Int] = [:]
            for row in try database.query("SELECT transaction_id, amount_paise FROM transfers WHERE answer = 'approved'") {
                if let id = row[0].textValue { approved[id] = row[1].int }
            }
            let repeated =
                try database.query(
                    "SELECT CAST(COALESCE(SUM(n - 1), 0) AS BIGINT) FROM (SELECT COUNT(*) AS n FROM applications GROUP BY transaction_id) AS applied"
                ).first?[0].int ?? 0
            return BankAudit(approved: approved, repeatedApplications: repeated)
        }
    }
}

/// What a bank's store shows after a run.
public struct BankAudit: Sendable, Hashable {
    /// Approved transfers and their amounts.
    public var approved: [String: Int]
    /// Applications beyond one per transaction (0 unless money moved twice).
    public var repeatedApplications: Int
}
