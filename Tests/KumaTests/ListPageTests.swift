import Foundation
import KMeshSupport
import Testing

@testable import Kuma

/// A list page as the client reads it, straight from the parsed document.
struct ListPageTests {
    @Test func readsItemsWithTheirSpecStatusAndNextLink() throws {
        let body = #"""
            {"total":2,"items":[
              {"type":"MeshService","mesh":"default","name":"redis","labels":{"kuma.io/zone":"zone-1"},
               "spec":{"ports":[{"port":6379}]},
               "status":{"addresses":[{"hostname":"redis.svc.mesh.local"}],"vips":[{"ip":"241.0.0.1"}]}},
              {"name":"web","labels":null,"status":null}],
             "next":"http://cp:5681/meshes/default/meshservices?offset=2"}
            """#
        let page = try LiveKuma.Page(Data(body.utf8))
        #expect(page.next == "http://cp:5681/meshes/default/meshservices?offset=2")
        #expect(page.items.count == 2)
        let redis = page.items[0]
        #expect(redis.type == "MeshService" && redis.mesh == "default" && redis.name == "redis")
        #expect(redis.labels == ["kuma.io/zone": "zone-1"])
        #expect(redis.spec == .object(["ports": .array([.object(["port": .number(6379)])])]))
        #expect(redis.hostnames == ["redis.svc.mesh.local"] && redis.vips == ["241.0.0.1"])
        let web = page.items[1]
        #expect(web.type == "" && web.mesh == nil && web.labels.isEmpty && web.status == nil && web.hostnames.isEmpty)
        #expect(try LiveKuma.Page(Data(#"{"items":[],"next":null}"#.utf8)).next == nil)
    }

    @Test(arguments: [
        ("[]", "a list page is not a JSON object"), (#"{"total":0}"#, "a list page has no items array"),
        (#"{"items":[1]}"#, "an item is not a JSON object"), (#"{"items":[{"type":"Mesh"}]}"#, "an item has no name"),
        (#"{"items":[{"name":7}]}"#, "an item's name is not a string"),
        (#"{"items":[{"name":"a","labels":{"k":1}}]}"#, "the label k of a is not a string"),
        (#"{"items":[{"name":"a","labels":[]}]}"#, "the labels of a are not an object"),
        (#"{"items":[],"next":5}"#, "a list page's next is not a string"),
        (#"{"items":[],}"#, "not valid JSON at byte 12: expected a string key"),
    ])
    func refusesWhatIsNotAListPage(_ body: String, _ why: String) {
        #expect(throws: KumaDecodingError(why)) { try LiveKuma.Page(Data(body.utf8)) }
    }
}
