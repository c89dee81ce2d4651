import Foundation
import Testing

@testable import AWS

struct XMLTests {
    @Test func parsesEntitiesNamespacesCDATAAndComments() throws {
        let doc = try XMLParser.parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- leading comment -->
            <r:Root xmlns:r="urn:r" xmlns="urn:default" a='1 &amp; 2'>
              <Item>&lt;tag&gt; &quot;q&quot; &apos;s&apos; &#65;&#x42; caf&#233;</Item>
              <Item><![CDATA[<raw & kept>]]></Item>
              <!-- inner comment --><Empty/>
              <Other xmlns="urn:other"><Deep>x</Deep></Other>
            </r:Root>
            """)
        #expect(doc.name == "Root")
        #expect(doc.namespace == "urn:r")
        #expect(doc.attributes["a"] == "1 & 2")
        let items = doc.children("Item")
        #expect(items.count == 2)
        #expect(items[0].text == "<tag> \"q\" 's' AB café")
        #expect(items[0].namespace == "urn:default")
        #expect(items[1].text == "<raw & kept>")
        #expect(doc.child("Empty") != nil)
        #expect(doc.child("Other")?.namespace == "urn:other")
        #expect(doc.find("Deep")?.namespace == "urn:other")
        #expect(doc.find("Deep")?.text == "x")
    }

    @Test(arguments: [
        "<a><b></a>", "<a>", "<a>&bogus;</a>", "<a x=1/>", "<p:a/>", "<a></a><b/>", "text", "<a>&#xD800;</a>",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: XMLParseError.self) { try XMLParser.parse(text) }
    }

    @Test func doctypeIsSkippedNotExpanded() throws {
        let doc = try XMLParser.parse("<!DOCTYPE r [<!ENTITY x \"boom\">]><r>ok</r>")
        #expect(doc.text == "ok")
        #expect(throws: XMLParseError.self) { try XMLParser.parse("<!DOCTYPE r [<!ENTITY x \"boom\">]><r>&x;</r>") }
    }

    @Test func writerEscapesAndKeepsOrder() throws {
        let xml = LiveRoute53.changeBatchXML(
            comment: "a < b & c",
            changes: [
                RecordChange(.upsert, ResourceRecordSet(name: "api.mesh.local.", type: "A", ttl: 60, values: ["127.4.0.1"])),
                RecordChange(.delete, ResourceRecordSet(name: "old.mesh.local.", type: "TXT", ttl: 300, values: ["\"heritage=kmesh\""])),
            ])
        #expect(
            xml.hasPrefix(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Comment>a &lt; b &amp; c</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>api.mesh.local.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>127.4.0.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
            ))
        // Round trip through the parser.
        let doc = try XMLParser.parse(xml)
        let changes = doc.find("Changes")!.children("Change")
        #expect(changes.map { $0.value("Action") } == ["UPSERT", "DELETE"])
        #expect(changes[1].find("Value")?.text == "\"heritage=kmesh\"")
        #expect(doc.find("Comment")?.text == "a < b & c")
    }
}
