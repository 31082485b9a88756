import DabbaInbox
import Testing

@testable import DabbaInboxPostgres

/// The `?` → `$n` rewriting and the value conversions, without a server.
@Suite("PostgreSQL statements and values")
struct PostgresPlaceholderTests {
    @Test(arguments: [
        ("SELECT 1", "SELECT 1", 0),
        ("INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)", 3),
        ("SELECT '?', 'it''s ?', ?", "SELECT '?', 'it''s ?', $1", 1),
        (#"SELECT E'\' ?', ?"#, #"SELECT E'\' ?', $1"#, 1),
        (#"SELECT e'a\\', ?"#, #"SELECT e'a\\', $1"#, 1),
        (#"SELECT "col?" FROM "t""?" WHERE x = ?"#, #"SELECT "col?" FROM "t""?" WHERE x = $1"#, 1),
        ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2),
        ("SELECT ? /* a? /* nested? */ still? */ , ?", "SELECT $1 /* a? /* nested? */ still? */ , $2", 2),
        ("SELECT $$it's ?$$, $body$ ? $$ ? $body$, ?", "SELECT $$it's ?$$, $body$ ? $$ ? $body$, $1", 1),
        ("SELECT ?, $2", "SELECT ?, $2", 0),
        (#"SELECT data ? 'key' FROM t WHERE id = $1"#, #"SELECT data ? 'key' FROM t WHERE id = $1"#, 0),
        ("SELECT a$b, ? FROM t", "SELECT a$b, $1 FROM t", 1),
        ("SELECT 'ünï?', ?", "SELECT 'ünï?', $1", 1),
        ("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0),
    ])
    func rewritesPlaceholdersOutsideLiteralsAndComments(sql: String, expected: String, count: Int) {
        let rewritten = PostgresPlaceholders.rewrite(sql)
        #expect(rewritten.sql == expected)
        #expect(rewritten.count == count)
    }

    @Test func aPlaceholderCountMismatchIsAnError() throws {
        #expect(try PostgresPlaceholders.numbered("SELECT ?", parameterCount: 1) == "SELECT $1")
        let error = #expect(throws: InboxError.self) {
            try PostgresPlaceholders.numbered("SELECT ?, ?", parameterCount: 3)
        }
        #expect(error?.code == .statement)
        #expect(error?.message.contains("SELECT ?, ?") == true)
    }

    @Test func parametersAreEncodedAsText() {
        #expect(PostgresValues.encode(.integer(-42)).text == "-42")
        #expect(PostgresValues.encode(.double(0.1)).text == "0.1")
        #expect(PostgresValues.encode(.double(-.infinity)).text == "-Infinity")
        #expect(PostgresValues.encode(.double(.nan)).text == "NaN")
        #expect(PostgresValues.encode(.null).text == nil)
        #expect(PostgresValues.encode(.blob([0, 0xab, 0xff])).text == #"\x00abff"#)
        #expect(PostgresValues.encode(.blob([0])).type == 17)
        #expect(PostgresValues.encode(.text("x")).type == 0)
    }

    @Test func aServerThatCannotBeReachedIsAnOpenError() {
        let error = #expect(throws: InboxError.self) {
            try PostgresInbox(connectionString: "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2")
        }
        #expect(error?.code == .open)
        #expect(error?.message.contains("could not connect to PostgreSQL") == true, "\(String(describing: error))")
        #expect(error?.message.contains("refused") == true, "\(String(describing: error))")
    }

    @Test func connectingOffThePoolReportsTheSameOpenError() async {
        let error = await #expect(throws: InboxError.self) {
            try await PostgresInbox.connect(
                connectionString: "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2"
            )
        }
        #expect(error?.code == .open)
        #expect(error?.message.contains("could not connect to PostgreSQL") == true, "\(String(describing: error))")
        #expect(error?.message.contains("refused") == true, "\(String(describing: error))")
    }

    @Test func aMalformedConnectionStringIsAnOpenError() {
        let error = #expect(throws: InboxError.self) { try PostgresInbox(connectionString: "not a conninfo") }
        #expect(error?.code == .open)
        #expect(error?.message.contains(#"missing "=" after "not""#) == true, "\(String(describing: error))")
    }
}
