@testable import DabbaEvents
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

    @Test("derived ids are RFC 9562 version 5 UUIDs: the RFC's SHA-1 construction, same parts give the same id")
    func derived() throws {
        // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
        let dns: [UInt8] = [
            0x6B, 0xA7, 0xB8, 0x10, 0x9D, 0xAD, 0x11, 0xD1, 0x80, 0xB4, 0x00, 0xC0, 0x4F, 0xD4, 0x30, 0xC8,
        ]
        #expect(EventID.derived(namespace: dns, name: Array("python.org".utf8)) == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
        // Computed independently with Python's uuid5 over Dabba's namespace and length-prefixed parts.
        #expect(
            EventID.derived(from: ["food-orders", "evt-1", "test.order.placed", "#1"])
                == "168683d0-4ec0-5213-a4c0-591686a7fdc0"
        )
        #expect(EventID.derived(from: ["g", "c\u{e9}", "t", "#2"]) == "d57bed70-c00a-5714-b96e-e7b5c85035e6")
        #expect(EventID.derived(from: ["a", "bc"]) != EventID.derived(from: ["ab", "c"]))
        let id = EventID.derived(from: ["group", "cause", "type", "#1"])
        let parsed = try #require(UUID(uuidString: id))
        let bytes = withUnsafeBytes(of: parsed.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 5, "version nibble")
        #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant")
    }

    @Test("SHA-1 of messages around the 55/56/64-byte padding boundaries matches known digests")
    func sha1Padding() {
        func hex(_ text: String) -> String {
            var hash = SHA1()
            hash.update(Array(text.utf8))
            return hash.finish().map { String(format: "%02x", $0) }.joined()
        }
        #expect(hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(
            hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
        #expect(hex(String(repeating: "a", count: 64)) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
        #expect(hex(String(repeating: "a", count: 55)) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
    }
}
