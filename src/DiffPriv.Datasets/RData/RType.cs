namespace DiffPriv.Datasets.RData;

/// <summary>R's object types (<c>SEXPTYPE</c>, R Internals §1.1) as they appear in the low byte of a serialised item's flags.</summary>
internal enum RType
{
    Null = 0,
    Symbol = 1,
    Pairlist = 2,
    Closure = 3,
    Environment = 4,
    Promise = 5,
    Language = 6,
    Special = 7,
    Builtin = 8,
    Char = 9,
    Logical = 10,
    Integer = 13,
    Double = 14,
    Complex = 15,
    Character = 16,
    Dots = 17,
    List = 19,
    Expression = 20,
    Bytecode = 21,
    ExternalPointer = 22,
    WeakReference = 23,
    Raw = 24,
    S4 = 25,
}
