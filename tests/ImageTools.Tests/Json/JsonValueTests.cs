using System.Text;
using ImageTools.Json;
using Xunit;

namespace ImageTools.Tests.Json
{
    public class JsonValueTests
    {
        [Fact]
        public void Reads_a_manifest_shaped_document()
        {
            var value = JsonValue.Parse(
                "{ \"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n" +
                "  \"config\": {\"digest\": \"sha256:ab\", \"size\": 1234567890123},\n" +
                "  \"layers\": [], \"annotations\": {\"a\": null, \"b\": true, \"c\": false, \"d\": -1.5e+3} }");

            Assert.Equal(JsonKind.Object, value.Kind);
            Assert.Equal(2, value["schemaVersion"]!.AsInt64);
            Assert.Equal("application/vnd.oci.image.manifest.v1+json", value["mediaType"]!.AsString);
            Assert.Equal(1234567890123, value["config"]!["size"]!.AsInt64);
            Assert.Empty(value["layers"]!.Items);
            Assert.Equal(JsonKind.Null, value["annotations"]!["a"]!.Kind);
            Assert.True(value["annotations"]!["b"]!.AsBoolean);
            Assert.False(value["annotations"]!["c"]!.AsBoolean);
            Assert.Equal("-1.5e+3", value["annotations"]!["d"]!.NumberText);
            Assert.Null(value["annotations"]!["d"]!.AsInt64);
            Assert.Null(value["missing"]);
            Assert.Null(value["layers"]!["x"]);
        }

        [Theory]
        [InlineData("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t")]
        [InlineData("\"\\u00e9\\u20AC\"", "é€")]
        [InlineData("\"\\ud83d\\ude00\"", "😀")]
        [InlineData("\"plain 😀 text\"", "plain 😀 text")]
        public void Decodes_string_escapes(string json, string expected) =>
            Assert.Equal(expected, JsonValue.Parse(json).AsString);

        [Theory]
        [InlineData("", "empty")]
        [InlineData("   ", "empty")]
        [InlineData("{", "ends too early")]
        [InlineData("{\"a\":1,}", "member name")]
        [InlineData("[1,]", "JSON value should start")]
        [InlineData("[1 2]", "expected ',' or ']'")]
        [InlineData("{\"a\" 1}", "expected ':'")]
        [InlineData("{'a':1}", "member name")]
        [InlineData("{\"a\":1,\"a\":2}", "repeated")]
        [InlineData("01", "after the JSON value")]
        [InlineData("1.", "digits after '.'")]
        [InlineData("-", "needs digits")]
        [InlineData("1e", "exponent")]
        [InlineData("tru", "ends too early")]
        [InlineData("nul1", "JSON value should start")]
        [InlineData("\"abc", "not closed")]
        [InlineData("\"a\tb\"", "control character")]
        [InlineData("\"\\x\"", "not a JSON escape")]
        [InlineData("\"\\u12\"", "four hex digits")]
        [InlineData("{} {}", "after the JSON value")]
        [InlineData("// comment\n{}", "JSON value should start")]
        [InlineData("<html><body>Not Found</body></html>", "'<'")]
        public void Refuses_what_is_not_strict_JSON(string json, string reasonPart)
        {
            var error = Assert.Throws<JsonFormatException>(() => JsonValue.Parse(json));
            Assert.Contains(reasonPart, error.Message);
        }

        [Fact]
        public void Refuses_hostile_nesting_without_overflowing_the_stack()
        {
            var error = Assert.Throws<JsonFormatException>(() => JsonValue.Parse(new string('[', 100000)));
            Assert.Contains("deeper", error.Message);
        }

        [Fact]
        public void Bytes_must_be_UTF8_and_a_byte_order_mark_is_skipped_only_when_allowed()
        {
            Assert.Throws<JsonFormatException>(() => JsonValue.Parse(new byte[] { (byte)'"', 0xC3, (byte)'"' }));
            var withBom = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Concat(new byte[] { 0xEF, 0xBB, 0xBF }, Encoding.UTF8.GetBytes("{\"a\":\"é\"}")));
            Assert.Throws<JsonFormatException>(() => JsonValue.Parse(withBom));
            Assert.Equal("é", JsonValue.Parse(withBom, allowByteOrderMark: true)["a"]!.AsString);
        }

        [Fact]
        public void Writes_compact_JSON_that_reads_back_the_same()
        {
            var value = JsonValue.Object(
                ("schemaVersion", JsonValue.Number(2)),
                ("name", JsonValue.String("quote\" back\\ nl\n ctl\u0001 é")),
                ("items", JsonValue.Array(JsonValue.True, JsonValue.False, JsonValue.Null, JsonValue.Object())));

            var json = value.ToJson();

            Assert.Equal("{\"schemaVersion\":2,\"name\":\"quote\\\" back\\\\ nl\\n ctl\\u0001 é\",\"items\":[true,false,null,{}]}", json);
            Assert.Equal(json, JsonValue.Parse(json).ToJson());
        }

        [Fact]
        public void Writes_indented_JSON_that_reads_back_the_same()
        {
            var value = JsonValue.Array(
                JsonValue.Object(("name", JsonValue.String("a")), ("size", JsonValue.Number(3)), ("tags", JsonValue.Array())),
                JsonValue.Object());

            var json = value.ToIndentedJson();

            Assert.Equal("[\n  {\n    \"name\": \"a\",\n    \"size\": 3,\n    \"tags\": []\n  },\n  {}\n]\n", json);
            Assert.Equal(value.ToJson(), JsonValue.Parse(json).ToJson());
        }

        [Fact]
        public void Objects_refuse_repeated_names_when_built()
        {
            Assert.Throws<System.ArgumentException>(() => JsonValue.Object(("a", JsonValue.Null), ("a", JsonValue.True)));
        }
    }
}
