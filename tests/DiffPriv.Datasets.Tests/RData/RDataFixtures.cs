using System.Buffers.Binary;
using System.IO.Compression;

namespace DiffPriv.Datasets.Tests.RData;

/// <summary>
/// Small real R files. <see cref="RdRdsGzip"/> is <c>/usr/lib/R/site-library/janeaustenr/Meta/Rd.rds</c> from the Debian
/// package r-cran-janeaustenr 1.0.0-1 (MIT; written by R 4.2.1, saveRDS's default gzip, serialisation version 3): the
/// package's help index, a data.frame of 8 rows with character and list columns and compact row names. Its decompressed
/// payload (1791 bytes, SHA-256 <see cref="PayloadSha256"/>) was recompressed with bzip2 1.0.8 (<c>bzip2 -9</c>), xz 5.4.1
/// (<c>xz -9</c>) and, as R's lazy-load databases do with compression 3, as raw LZMA2 (<c>xz --format=raw --lzma2=preset=6</c>).
/// </summary>
internal static class RDataFixtures
{
    public const string PayloadSha256 = "bb2a495f76ce25a68eba596aa8efc236ae30d5c516d741569f94bdf5dba5da51";

    /// <summary>The decompressed <see cref="RdRdsGzip"/>: one serialised data frame, 1791 bytes.</summary>
    public static byte[] Payload()
    {
        using var gzip = new GZipStream(new MemoryStream(RdRdsGzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    /// <summary><see cref="Payload"/> as a record of a compression-3 lazy-load database: its length, <c>'Z'</c>, raw LZMA2.</summary>
    public static byte[] Lzma2Record()
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, Payload().Length);
        return [.. length, (byte)'Z', .. RdLzma2Raw];
    }

    /// <summary>
    /// A lazy-load index (<c>Rdata.rdx</c>) as <c>makeLazyLoadDB</c> writes it: a gzip-compressed RDS of the list
    /// <c>(variables = list(name = c(offset, length), …), references = list(), compressed)</c>; compression 1 is
    /// written as R's <c>TRUE</c>, others as an integer.
    /// </summary>
    public static byte[] LazyLoadIndex(string[] names, (int Offset, int Length)[] keys, int compression) => Gzip(new XdrWriter().Header()
        .List(
            3,
            e => e
                .List(
                    keys.Length,
                    v =>
                    {
                        foreach (var (offset, length) in keys)
                        {
                            v.Integers([offset, length]);
                        }
                    },
                    a => a.Node(t => t.Symbol("names"), n => n.Strings(names)).Null())
                .List(0, _ => { }, a => a.Node(t => t.Reference(1), n => n.Strings([])).Null())
                .Integers([compression], logical: compression == 1),
            a => a.Node(t => t.Reference(1), n => n.Strings(["variables", "references", "compressed"])).Null())
        .ToArray());

    public static readonly byte[] RdRdsGzip = Convert.FromBase64String(
        "H4sIAAAAAAAAA61UzW/TMBTPulbLCoONSZytHkBCW4WQ+BAHpGraDiCqiQWJG3KS19ZrYke2u9EbfzYnipPmJXZayBAcEtvv8+f33s9f+p7n7X" +
        "rdzo632zNbr/c5uDh9Y2TH5uCb77BYu96+WR/ShdLAv4ZCzNXwU1yK9yBNaX18fE05rC3laUajOZ1CrT1MKVcTBkmcUTmv5Y+4kHpG+RQkDUNY" +
        "1pqDDKRaUMUEr4VHmWQxZBKuFzGLrPjHCriC/MdCljBdBHKvcd++Rinr5nfAEFsugFgc9FiWBvRS3K9xl5IHLmisSBNxA66HEGOqEeKeC8tW3X" +
        "3vpnkXsHhJcgWZSJoCERPy3hSCjIpKPFXkFYlEmiWgIT4h2SJMmJpBTLi4gQTr+CSYAdHwTW+6F3ZkcG4KPSitn1mVftswPytzkbEd/3lr/I/Y" +
        "IXJpWoSZXrT6jasmklHeRfQ8afW8rPqMPi/bffJJIJQblDgO6Py61fkqH5jC+aqemsFvxubvV8MAi/w7W1nj6tbsWcs6peye1ds/EcuN1CCYq9" +
        "wgmqu2CedqmsRztdsIaFfA+4d1WxzM6+dkU6Cb1fQZ1yA5Te5q///l3Y4l73HzHKAxjlf3giXV8zM2BrgPlhnuewHTlZF/ziMRMz7FJ2yUMJMN" +
        "ie2fCR5BpqvzB1jeChlvgIkSqprI+znyYfFsNcz3pbgdIv4D83W+m99qtfphlp+/ACbp3Kr/BgAA");

    public static readonly byte[] RdRdsBzip2 = Convert.FromBase64String(
        "QlpoOTFBWSZTWWLbjEMAAff/wP7/+QBRl1PRKxteQL//3+BAAABBwAJdbJjCmEkimmmQTQybSZBoHqGmhoA00yNA2JAYkapjVPUZHpqaZGgAAx" +
        "AGgNAAA4aaZGIwmmAhgE0wjBMTIaZGhoAqSghT02oT9UyPSeo9RoGQABoAA0NPUL8w3IVbZeqSqksFYbVqLyVUYl6WQPlgK47Owp35NHu7zv04" +
        "ctSCNEDAtWrWSQYYiq8SJNaJEjASAUXZhkpd3Tgimtp08zWotai8GHvKxn56qmbCaaSHAQVIkwpEslVUkzpVUKqAuoE+FBYlVUVSRUo3052jLA" +
        "DeOJAwzChhqzZgXf4B4GBsWFbrjug2YABULosmelTzUNIfdBylgk0NlEC7eXheiAIRgoBJYgAmyYeTtud3f4Yqzfsi07omZhranC8ED/ZnGwZg" +
        "JkaQ0VVGfDTVxUBh5RLIZZUSmhpgjCKZOC1AF11vSBYeVS8KD1lFGFYKIlepeVF2BnyPdSsASSY6l8VOFoUPy7RsTQUxeK8NmiKrCbWgv3Gutx" +
        "lN1SXpqNnQkuPHp3+oUZjyJkz0bp0S7kPVtl+rKZstH3+z9c3CYHAb0xuS2jXjpdvG4vcByuXPFzZWiKFVMNXFdfkkmejuubXJnhcUX43SZpst" +
        "pA6ys2PAIazmlYwLPiLkhrqcods13MDKUtbhzMzLpF/8ovK5OGOO3G262zibBdh2XFlmi6UlGuiyPMGo/qWpMjbDJvJkM16Y2GQs9ZxigAVEDS" +
        "nJqCtsyXCvr+9kF/i7kinChIMW3GIY");

    public static readonly byte[] RdRdsXz = Convert.FromBase64String(
        "/Td6WFoAAATm1rRGAgAhARwAAAAQz1jM4Ab+Af1dACwCfBn5r/QdN+TvRvw5egRe3631wLXM94yzkTTF5HZhxaxya8xn/Oh/7BJNcbCxF57b5j" +
        "xUaCgQ+650PCTJhFZCHgLIee3Hi9EZWg71kvikG/V1/9gEqSVcWqIHbUw/kpikGoqJYAJ2yTX2Wl2Hw1Vt1IoUMoJlmEUMq6CV6AYtcKIlYzdg" +
        "yPHr52Vxy8V/On600s+wkB0/1v7ThvrfcvSws5DRaNWkDcN5Qy4bIU9sgj4L0hlFkFsFhOaqkUbgCUtn9nRgxagj0lb/skTkbP9NdH45dMpjqG" +
        "WEQU1ITGs++IFWRFJrIkK9kQKplW+ccHlNDRM0Gx/70MXfAXITXq94vAyLmqbYKvZRlq6eDmSjBWNYi3SHi/xs0ShavZxs64u3+7KP0SHAEGbO" +
        "aD3FOMIHTX36e39ZkpK+rTTM9vwZ1Dmxojz/4PS2DTfvRAoH66daxYgzusFqGd16wr5y1Gt5xWXPSVIdRHdwwugZO2Cwi/fXS8nAMBmSpYFPV9" +
        "8/m3fp3dBaFZsLc86oMu7cYAZw5trZSYz1a8tE7eTiE9HWZHRa7lW8rNRsVeX1b4IXJVa43XpKBdRBOHISqMpn8H1KHIWoQL/L6HKNdhp/F0kn" +
        "rMXx5+fhxw1McjwTb2fJ5g3surK3n4kI4l+7kUgO+o4XTTTnxB3TRE8Wi2kAAAAAALQCB9MSEhfLAAGZBP8NAAA0oGHascRn+wIAAAAABFla");

    public static readonly byte[] RdLzma2Raw = Convert.FromBase64String(
        "4Ab+Af1dACwCfBn5r/QdN+TvRvw5egRe3631wLXM94yzkTTF5HZhxaxya8xn/Oh/7BJNcbCxF57b5jxUaCgQ+650PCTJhFZCHgLIee3Hi9EZWg" +
        "71kvikG/V1/9gEqSVcWqIHbUw/kpikGoqJYAJ2yTX2Wl2Hw1Vt1IoUMoJlmEUMq6CV6AYtcKIlYzdgyPHr52Vxy8V/On600s+wkB0/1v7Thvrf" +
        "cvSws5DRaNWkDcN5Qy4bIU9sgj4L0hlFkFsFhOaqkUbgCUtn9nRgxagj0lb/skTkbP9NdH45dMpjqGWEQU1ITGs++IFWRFJrIkK9kQKplW+ccH" +
        "lNDRM0Gx/70MXfAXITXq94vAyLmqbYKvZRlq6eDmSjBWNYi3SHi/xs0ShavZxs64u3+7KP0SHAEGbOaD3FOMIHTX36e39ZkpK+rTTM9vwZ1Dmx" +
        "ojz/4PS2DTfvRAoH66daxYgzusFqGd16wr5y1Gt5xWXPSVIdRHdwwugZO2Cwi/fXS8nAMBmSpYFPV98/m3fp3dBaFZsLc86oMu7cYAZw5trZSY" +
        "z1a8tE7eTiE9HWZHRa7lW8rNRsVeX1b4IXJVa43XpKBdRBOHISqMpn8H1KHIWoQL/L6HKNdhp/F0knrMXx5+fhxw1McjwTb2fJ5g3surK3n4kI" +
        "4l+7kUgO+o4XTTTnxB3TRE8Wi2kAAA==");
}
