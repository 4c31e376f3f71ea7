using DiffPriv.Experiments.Tabular;

namespace DiffPriv.Experiments.Tests.Tabular;

public sealed class TabularSchemaTests
{
    [Fact]
    public void TheIssuesExampleParses()
    {
        var schema = TabularSchema.Parse(
            """
            {"columns": {"age": {"type": "numeric", "range": [0, 120]}, "sex": {"type": "categorical", "categories": ["f", "m"]}},
             "target": {"name": "income", "classes": ["<=50K", ">50K"]}, "missing": ["", "?", "NA"]}
            """,
            "s.json");
        Assert.Equal(new SchemaColumn(TabularColumnKind.Numeric, (0, 120), null, null), schema.Columns["age"]);
        Assert.Equal(TabularColumnKind.Categorical, schema.Columns["sex"].Kind);
        Assert.Equal(["f", "m"], schema.Columns["sex"].Categories!);
        Assert.Equal("income", schema.TargetName);
        Assert.Equal(["<=50K", ">50K"], schema.Classes!);
        Assert.True(schema.IsMissing(" NA "));
        Assert.True(schema.IsMissing(null));
        Assert.False(schema.IsMissing("0"));
    }

    [Fact]
    public void EverythingIsOptional()
    {
        var schema = TabularSchema.Parse("{}", "s.json");
        Assert.Empty(schema.Columns);
        Assert.Null(schema.Classes);
        Assert.Equal(TabularSchema.DefaultMissing, schema.Missing);
        Assert.Equal(["-"], TabularSchema.Parse("""{"missing": ["-"], "columns": {"id": {"type": "ignore"}}}""", "s.json").Missing);
    }

    [Theory]
    [InlineData("{\"columns\": {\"age\": {\"type\": \"numeric\", \"rnage\": [0, 1]}}}", "s.json: column 'age': unknown key \"rnage\"")]
    [InlineData("{\"columns\": {\"age\": {\"type\": \"numeric\", \"range\": [5, 5]}}}", "s.json: column 'age': \"range\" must be [low, high]")]
    [InlineData("{\"columns\": {\"age\": {\"type\": \"number\"}}}", "s.json: column 'age': \"type\" must be")]
    [InlineData("{\"columns\": {\"sex\": {\"type\": \"numeric\", \"categories\": [\"f\"]}}}", "s.json: column 'sex': \"categories\" is for categorical columns")]
    [InlineData("{\"target\": {\"classes\": [\"yes\"]}}", "s.json: \"target\".\"classes\" must list at least two classes")]
    [InlineData("{\"target\": {\"classes\": [\"yes\", \"yes\"]}}", "lists a value twice")]
    [InlineData("{\"columns\": {\"a\": {\"type\": \"ignore\"}, \"a\": {\"type\": \"ignore\"}}}", "s.json: column 'a' is declared twice")]
    [InlineData("{\"columns\": {\"y\": {\"type\": \"ignore\"}}, \"target\": {\"name\": \"y\"}}", "'y' is the target")]
    [InlineData("[1, 2]", "s.json: the schema must be a JSON object")]
    [InlineData("{\n  \"columns\": {\n    \"age\": {\"type\": numeric}\n  }\n}", "s.json:3: not valid JSON")]
    public void AnInvalidSchemaNamesTheFileAndTheProblem(string json, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => TabularSchema.Parse(json, "s.json"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
