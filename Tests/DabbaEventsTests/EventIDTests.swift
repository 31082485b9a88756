import DabbaEvents
import Foundation
import Testing

@Suite("Event ids")
struct EventIDTests {
    @Test("ids are RFC 9562 version 7 UUIDs in lowercase, carrying the creation time")
    func formatAndTime() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let id = EventID.make()
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(id.count == 36)
        #expect(id == id.lowercased())
        let parsed = try #require(UUID(uuidString: id))
        #expect(parsed.uuidString.lowercased() == id)
        let bytes = withUnsafeBytes(of: parsed.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7, "version nibble")
        #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant")
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect((before...after).contains(milliseconds))
    }

    @Test("ids made concurrently are all distinct")
    func distinct() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<25_000).map { _ in EventID.make() } } }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(Set(ids).count == 100_000)
    }
}
