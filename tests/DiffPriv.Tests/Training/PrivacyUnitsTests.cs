using DiffPriv.Data;

namespace DiffPriv.Tests.Training;

public sealed class PrivacyUnitsTests
{
    [Fact]
    public void KeysGroupExamplesIntoUnitsNumberedByFirstAppearance()
    {
        var units = PrivacyUnits.FromKeys(["bob", "ann", "bob", "cy", "ann", "bob"], "patient");
        Assert.Equal("patient", units.Name);
        Assert.Equal(3, units.Count);
        Assert.Equal(6, units.ExampleCount);
        Assert.Equal([0L, 2, 5], units.ExamplesOf(0));
        Assert.Equal([1L, 4], units.ExamplesOf(1));
        Assert.Equal([3L], units.ExamplesOf(2));
        Assert.Equal([3, 2, 1], units.ExampleCounts());
        Assert.Equal(3, units.MaxExamplesPerUnit);
        Assert.Equal([0, 1, 0, 2, 1, 0], Enumerable.Range(0, 6).Select(i => units.UnitOf(i)));
    }

    [Fact]
    public void ExpandListsTheSampledUnitsExamplesUnitAfterUnit()
    {
        var units = PrivacyUnits.FromKeys([7, 7, 9, 8, 9, 7]);
        var (examples, sizes) = units.Expand([0L, 2]);
        Assert.Equal([0L, 1, 5, 3], examples);
        Assert.Equal([3, 1], sizes);
        Assert.Empty(units.Expand([]).Examples);
    }

    [Fact]
    public void MissingKeysAreRefused()
    {
        Assert.Throws<ArgumentException>(() => PrivacyUnits.FromKeys(Array.Empty<int>()));
        var e = Assert.Throws<ArgumentException>(() => PrivacyUnits.FromKeys<string>(new string[] { "a", null! }));
        Assert.Contains("example 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PrivacyUnits.FromKeys([1], " "));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrivacyUnits.FromKeys([1, 2]).ExamplesOf(2));
    }
}
