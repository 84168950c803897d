namespace Retail.Synthetic;

/// <summary>
/// Generates transactions with the workshop generator's schema and ranges: Invoice 6 digits,
/// StockCode 5 digits and one uppercase letter, Description a few words joined with <c>", "</c>, Quantity 1–10, InvoiceDate
/// earlier on the same day as the clock's "now" (whole seconds), Price 0.10–100.00 with two decimals,
/// Customer_ID 5 digits, Country from the data set's countries.
/// </summary>
/// <remarks>
/// The sequence is a pure function of the seed and the clock value: the same
/// <see cref="SyntheticOptions"/> give byte-identical records on any machine and any .NET version
/// (the generator uses its own SplitMix64, not <see cref="Random"/>). It streams: memory does not
/// grow with the count.
/// </remarks>
public sealed class SyntheticTransactionGenerator
{
    /// <summary>
    /// The clock used when a seed is given without a clock: the last day of the Online Retail II data
    /// set, so seeded runs are reproducible and land inside the workshop queries' 2010 window.
    /// </summary>
    public static readonly DateTime SeededClock = new(2010, 12, 9, 20, 0, 0, DateTimeKind.Unspecified);

    private static readonly string[] Words =
    [
        "WHITE", "HANGING", "HEART", "T-LIGHT", "HOLDER", "METAL", "LANTERN", "CREAM", "CUPID", "HEARTS",
        "COAT", "HANGER", "KNITTED", "UNION", "FLAG", "HOT", "WATER", "BOTTLE", "RED", "WOOLLY", "HOTTIE",
        "SET", "BABUSHKA", "NESTING", "BOXES", "GLASS", "STAR", "FROSTED", "HAND", "WARMER", "JACK",
        "POLKADOT", "ASSORTED", "COLOUR", "BIRD", "ORNAMENT", "POPPY'S", "PLAYHOUSE", "BEDROOM", "KITCHEN",
        "FELTCRAFT", "PRINCESS", "CHARLOTTE", "DOLL", "IVORY", "EMBROIDERED", "QUILT", "JUMBO", "BAG",
        "PINK", "VINTAGE", "PAISLEY", "LUNCH", "BOX", "CAKE", "CASES", "REGENCY", "TEACUP", "SAUCER",
        "ALARM", "CLOCK", "BAKELIKE", "GREEN", "BLUE", "RETROSPOT", "PARTY", "BUNTING", "CANDLE",
    ];

    private static readonly string[] Countries =
    [
        "United Kingdom", "France", "Australia", "Netherlands", "Germany", "Norway", "EIRE", "Switzerland",
        "Spain", "Poland", "Portugal", "Italy", "Belgium", "Lithuania", "Japan", "Iceland", "Channel Islands",
        "Denmark", "Cyprus", "Sweden", "Austria", "Israel", "Finland", "Greece", "Singapore", "Lebanon",
        "United Arab Emirates", "Saudi Arabia", "Czech Republic", "Canada", "Brazil", "USA",
        "European Community", "Bahrain", "Malta", "RSA",
    ];

    private readonly SyntheticOptions _options;

    /// <summary>Creates a generator.</summary>
    public SyntheticTransactionGenerator(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Generates <paramref name="count"/> records (or forever when null), lazily.</summary>
    public IEnumerable<RetailTransaction> Generate(long? count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must not be negative.");
        var rng = new SplitMix64(_options.Seed);
        DateTime now = _options.Clock;
        DateTime midnight = now.Date;
        long secondsToday = Math.Max(1, (long)(now - midnight).TotalSeconds);
        for (long i = 0; count is null || i < count; i++)
        {
            // The workshop joins a few random words with ", " (mimesis words()).
            int words = 2 + (int)rng.Next(3);
            string description = Words[rng.Next(Words.Length)];
            for (int w = 1; w < words; w++) description = description + ", " + Words[rng.Next(Words.Length)];
            yield return new RetailTransaction
            {
                Invoice = (100000 + rng.Next(900000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                StockCode = string.Create(6, rng.Next(90000 * 26), static (span, v) =>
                {
                    int digits = 10000 + (int)(v / 26);
                    digits.TryFormat(span, out _, default, System.Globalization.CultureInfo.InvariantCulture);
                    span[5] = (char)('A' + (int)(v % 26));
                }),
                Description = description,
                Quantity = 1 + (int)rng.Next(10),
                InvoiceDate = midnight.AddSeconds(rng.Next((ulong)secondsToday)),
                Price = (10 + (long)rng.Next(9991)) / 100m,
                CustomerId = (10000 + rng.Next(90000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Country = Countries[rng.Next(Countries.Length)],
            };
        }
    }

    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        private ulong NextUInt64()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, bound) by rejection (no modulo bias).</summary>
        public ulong Next(ulong bound)
        {
            ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong r;
            do r = NextUInt64(); while (r >= limit);
            return r % bound;
        }

        public int Next(int bound) => (int)Next((ulong)bound);
    }
}

/// <summary>Settings of <see cref="SyntheticTransactionGenerator"/>.</summary>
public sealed class SyntheticOptions
{
    /// <summary>Seed of the pseudo-random sequence.</summary>
    public ulong Seed { get; init; }

    /// <summary>"Now" for the generator: invoice dates fall between midnight of this day and this instant.</summary>
    public DateTime Clock { get; init; } = SyntheticTransactionGenerator.SeededClock;
}
