import DabbaInbox
import PaymentsDomain

/// The ledger's double-entry book in its store: accounts with opening balances, an append-only journal, holds, and
/// each payment's state. A balance is the opening balance plus the account's credits minus its debits; no balance
/// row is ever updated, so the hot merchant that receives most payments is written by inserts only (no row every
/// settlement contends for, also with several ledger instances on one PostgreSQL store).
public enum LedgerBook {
    /// The tables, and the accounts opened from the reference data (the statements are portable to PostgreSQL).
    public static func migrations(reference: PaymentsReference) -> [String] {
        let values = reference.openingBalances.map { "('\($0.vpa)', \($0.paise))" }.joined(separator: ", ")
        return [
            "CREATE TABLE IF NOT EXISTS accounts (vpa TEXT PRIMARY KEY, opening_paise BIGINT NOT NULL)",
            // One row per side of a money movement; (transaction, entry, account) once: a second settlement of a
            // transaction fails the insert rather than moving money twice.
            "CREATE TABLE IF NOT EXISTS journal (transaction_id TEXT NOT NULL, entry TEXT NOT NULL, account TEXT NOT NULL, debit_paise BIGINT NOT NULL, credit_paise BIGINT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS journal_once ON journal (transaction_id, entry, account)",
            "CREATE INDEX IF NOT EXISTS journal_account ON journal (account)",
            "CREATE TABLE IF NOT EXISTS holds (transaction_id TEXT PRIMARY KEY, account TEXT NOT NULL, amount_paise BIGINT NOT NULL, state TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS holds_open ON holds (account, state)",
            "CREATE TABLE IF NOT EXISTS ledger_payments (transaction_id TEXT PRIMARY KEY, payer TEXT NOT NULL, payee TEXT NOT NULL, amount_paise BIGINT NOT NULL, state TEXT NOT NULL)",
            "INSERT INTO accounts (vpa, opening_paise) VALUES \(values) ON CONFLICT (vpa) DO NOTHING",
        ]
    }

    /// An account's balance: opening + credits − debits.
    public static func balance(_ vpa: String, in database: any InboxTransaction) throws -> Int {
        let opening = try database.query("SELECT opening_paise FROM accounts WHERE vpa = ?", [.text(vpa)]).first?[0].int ?? 0
        let moved = try database.query(
            "SELECT CAST(COALESCE(SUM(credit_paise - debit_paise), 0) AS BIGINT) FROM journal WHERE account = ?",
            [.text(vpa)]
        ).first?[0].int ?? 0
        return opening + moved
    }

    /// What an account can spend: its balance minus its open holds.
    public static func available(_ vpa: String, in database: any InboxTransaction) throws -> Int {
        let held = try database.query(
            "SELECT CAST(COALESCE(SUM(amount_paise), 0) AS BIGINT) FROM holds WHERE account = ? AND state = 'open'",
            [.text(vpa)]
        ).first?[0].int ?? 0
        return try balance(vpa, in: database) - held
    }

    /// The ledger's state of a payment, if it saw it.
    public static func state(of transactionId: String, in database: any InboxTransaction) throws
        -> (state: String, payer: String, payee: String, amountPaise: Int)?
    {
        guard
            let row = try database.query(
                "SELECT state, payer, payee, amount_paise FROM ledger_payments WHERE transaction_id = ?",
                [.text(transactionId)]
            ).first, let state = row[0].textValue, let payer = row[1].textValue, let payee = row[2].textValue
        else { return nil }
        return (state, payer, payee, row[3].int)
    }

    /// Records a payment's state.
    public static func setState(
        _ state: String, transactionId: String, payer: String, payee: String, amountPaise: Int,
        in database: any InboxTransaction
    ) throws {
        _ = try database.execute(
            "INSERT INTO ledger_payments (transaction_id, payer, payee, amount_paise, state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (transaction_id) DO UPDATE SET state = excluded.state",
            [.text(transactionId), .text(payer), .text(payee), .integer(Int64(amountPaise)), .text(state)])
    }

    /// Puts a hold of the amount on the payer's account.
    public static func hold(_ transactionId: String, account: String, amountPaise: Int, in database: any InboxTransaction)
        throws
    {
        _ = try database.execute(
            "INSERT INTO holds (transaction_id, account, amount_paise, state) VALUES (?, ?, ?, 'open')",
            [.text(transactionId), .text(account), .integer(Int64(amountPaise))])
    }

    /// Closes an open hold (`settled` or `released`).
    /// - Returns: Whether an open hold was closed.
    @discardableResult
    public static func closeHold(_ transactionId: String, as state: String, in database: any InboxTransaction) throws
        -> Bool
    {
        try database.execute(
            "UPDATE holds SET state = ? WHERE transaction_id = ? AND state = 'open'", [.text(state), .text(transactionId)]
        ) == 1
    }

    /// Moves money: one debit and one equal credit, under one entry name of the transaction.
    public static func move(
        _ amountPaise: Int, from debited: String, to credited: String, transactionId: String, entry: String,
        in database: any InboxTransaction
    ) throws {
        let sql =
            "INSERT INTO journal (transaction_id, entry, account, debit_paise, credit_paise) VALUES (?, ?, ?, ?, ?)"
        _ = try database.execute(
            sql, [.text(transactionId), .text(entry), .text(debited), .integer(Int64(amountPaise)), .integer(0)])
        _ = try database.execute(
            sql, [.text(transactionId), .text(entry), .text(credited), .integer(0), .integer(Int64(amountPaise))])
    }

    /// What the demo and the tests check in a ledger's store.
    public struct Audit: Sendable, Hashable {
        /// Sum of every balance.
        public var totalPaise = 0
        /// Sum of debits and of credits.
        public var debitsPaise = 0
        /// Sum of credits.
        public var creditsPaise = 0
        /// Journal entries that are not one debit plus one equal credit.
        public var unbalancedEntries = 0
        /// Accounts below zero.
        public var negativeBalances = 0
        /// Holds still open.
        public var openHolds = 0
        /// Transactions settled (refunded ones included), with their amounts.
        public var settled: [String: Int] = [:]
        /// Transactions refunded.
        public var refunded: [String: Int] = [:]
    }

    /// Audits a ledger's store.
    public static func audit(_ database: any InboxTransaction) throws -> Audit {
        var audit = Audit()
        audit.totalPaise =
            try database.query("SELECT CAST(COALESCE(SUM(opening_paise), 0) AS BIGINT) FROM accounts").first?[0].int ?? 0
        let sums = try database.query(
            "SELECT CAST(COALESCE(SUM(debit_paise), 0) AS BIGINT), CAST(COALESCE(SUM(credit_paise), 0) AS BIGINT) FROM journal"
        ).first
        audit.debitsPaise = sums?[0].int ?? 0
        audit.creditsPaise = sums?[1].int ?? 0
        audit.totalPaise += audit.creditsPaise - audit.debitsPaise
        audit.unbalancedEntries =
            try database.query(
                "SELECT COUNT(*) FROM (SELECT transaction_id, entry FROM journal GROUP BY transaction_id, entry HAVING COUNT(*) <> 2 OR SUM(debit_paise) <> SUM(credit_paise) OR SUM(CASE WHEN debit_paise > 0 THEN 1 ELSE 0 END) <> 1) AS odd"
            ).first?[0].int ?? 0
        audit.negativeBalances =
            try database.query(
                "SELECT COUNT(*) FROM (SELECT a.vpa FROM accounts a LEFT JOIN journal j ON j.account = a.vpa GROUP BY a.vpa, a.opening_paise HAVING a.opening_paise + COALESCE(SUM(j.credit_paise - j.debit_paise), 0) < 0) AS below"
            ).first?[0].int ?? 0
        audit.openHolds = try database.query("SELECT COUNT(*) FROM holds WHERE state = 'open'").first?[0].int ?? 0
        for row in try database.query("SELECT transaction_id, credit_paise FROM journal WHERE entry = 'settle' AND credit_paise > 0") {
            if let id = row[0].textValue { audit.settled[id] = row[1].int }
        }
        for row in try database.query("SELECT transaction_id, credit_paise FROM journal WHERE entry = 'refund' AND credit_paise > 0") {
            if let id = row[0].textValue { audit.refunded[id] = row[1].int }
        }
        return audit
    }
}
