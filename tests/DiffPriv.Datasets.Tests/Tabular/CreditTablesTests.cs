using System.Globalization;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Tests.Text;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Tabular;

public sealed class CreditTablesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-credit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => CreditData.ExportCsv(Path.Combine(_dir, "csv"), _dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch credit-data", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "csv")));
        e = Assert.Throws<DataFetchException>(() => GermanCredit.Ensure(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch credit-g", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGermanCreditFileThatFailsItsDigestIsRejected()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, GermanCredit.Id)).FullName;
        File.WriteAllText(Path.Combine(folder, GermanCredit.FileName), "@relation x\n@attribute a numeric\n@data\n1\n");
        var e = Assert.Throws<DataFetchException>(() => GermanCredit.Ensure(_dir, fetchIfMissing: false));
        Assert.Contains("sha256sum credit-g.arff | sha256sum", e.Message, StringComparison.Ordinal);
    }

    // Golden values: R 4.2.2 on the same Rdata.rdb (lazyLoad(".../modeldata/data/Rdata")): the SHA-256 of the file
    // written by write.table(d, quote = FALSE, sep = ",", na = "", row.names = FALSE, eol = "\r\n") after converting the
    // factors to character (no value holds a comma or a quote, so the two writers must agree byte for byte); the column
    // sums (na.rm = TRUE) and table(Status).
    [CorpusFact(CreditData.Id)]
    public void TheCreditTableIsExportedExactlyAsRWritesIt()
    {
        var path = CreditData.ExportCsv(_dir, fetchIfMissing: false);
        Assert.Equal("ad30554e4dbfceff0d2042ec91da9f4a5777f7f154a2305313c7f05f022f2b63", DataFetcher.Sha256File(path));
        var table = CsvReader.Read(path);
        Assert.Equal(["Status", "Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"], table.Header);
        Assert.Equal(4_454, table.Records.Count);
        var status = table.ColumnIndex(CreditData.TargetColumn);
        Assert.Equal(1_254, table.Records.Count(r => r.Fields[status] == "bad"));
        Assert.Equal(3_200, table.Records.Count(r => r.Fields[status] == "good"));
        long Sum(string column)
        {
            var c = table.ColumnIndex(column);
            return table.Records.Where(r => r.Fields[c].Length > 0).Sum(r => long.Parse(r.Fields[c], CultureInfo.InvariantCulture));
        }

        Assert.Equal(577_094, Sum("Income"));
        Assert.Equal(23_815_337, Sum("Assets"));
        Assert.Equal(381, table.Records.Count(r => r.Fields[table.ColumnIndex("Income")].Length == 0));
    }

    // Golden values: grep -c over the @data rows of weka 3.6.14's credit-g.arff (1 000 rows; 700 end in ",good", 300 in ",bad").
    [CorpusFact(GermanCredit.Id)]
    public void TheGermanCreditFileIsWekasThousandApplicants()
    {
        var arff = ArffReader.Read(GermanCredit.Ensure(fetchIfMissing: false));
        Assert.Equal("german_credit", arff.Relation);
        Assert.Equal(21, arff.Attributes.Count);
        Assert.Equal(7, arff.Attributes.Count(a => a.Kind == ArffColumnKind.Numeric));
        Assert.Equal(1_000, arff.Rows.Count);
        var target = arff.IndexOf(GermanCredit.TargetColumn);
        Assert.Equal(700, arff.Rows.Count(r => r.Values[target] == "good"));
        Assert.Equal(300, arff.Rows.Count(r => r.Values[target] == "bad"));
    }
}
