import DabbaCatalog
import Testing

/// `x-dabba-content-mode`: how an event's CloudEvents envelope is written, per channel or per message.
@Suite("CloudEvents content mode in the catalog")
struct ContentModeTests {
    @Test("binary unless the channel or the message says structured; the message's word wins")
    func modes() throws {
        let plain = try Catalog.load(yaml: orderDocument())
        #expect(plain.events.map(\.contentMode) == [.binary])

        let channel = try Catalog.load(yaml: orderDocument(channelExtras: "    x-dabba-content-mode: structured\n"))
        #expect(channel.events.map(\.contentMode) == [.structured])

        let message = try Catalog.load(yaml: orderDocument(messageExtras: "      x-dabba-content-mode: structured\n"))
        #expect(message.events.map(\.contentMode) == [.structured])

        let overridden = try Catalog.load(
            yaml: orderDocument(
                messageExtras: "      x-dabba-content-mode: binary\n",
                channelExtras: "    x-dabba-content-mode: structured\n"
            )
        )
        #expect(overridden.events.map(\.contentMode) == [.binary])
    }

    @Test("an unknown mode is an error at its line, naming the accepted ones")
    func unknownMode() throws {
        let yaml = orderDocument(messageExtras: "      x-dabba-content-mode: json\n")
        let errors = try #require(
            #expect(throws: CatalogErrors.self) { try Catalog.load(yaml: yaml, path: "Topics/orders.asyncapi.yaml") }
        ).errors
        #expect(errors.map(\.code) == [.invalidDocument])
        #expect(errors.first?.line == (try line(of: "x-dabba-content-mode: json", inText: yaml)))
        #expect(errors.first?.message == "x-dabba-content-mode must be binary or structured; not 'json'")
    }
}
