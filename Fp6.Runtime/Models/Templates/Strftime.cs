using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// Python's <c>strftime</c> for the directives chat templates use (Llama 3.x templates print today's date with
/// <c>strftime_now("%d %b %Y")</c>), with English names as in the C locale.
/// </summary>
internal static class Strftime
{
    internal static string Format(DateTime time, string format)
    {
        var builder = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                builder.Append(format[i]);
                continue;
            }
            char directive = format[++i];
            builder.Append(directive switch
            {
                'a' => time.ToString("ddd", c),
                'A' => time.ToString("dddd", c),
                'b' or 'h' => time.ToString("MMM", c),
                'B' => time.ToString("MMMM", c),
                'd' => time.ToString("dd", c),
                'e' => time.Day.ToString(c).PadLeft(2),
                'H' => time.ToString("HH", c),
                'I' => time.ToString("hh", c),
                'j' => time.DayOfYear.ToString("000", c),
                'm' => time.ToString("MM", c),
                'M' => time.ToString("mm", c),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'S' => time.ToString("ss", c),
                'y' => time.ToString("yy", c),
                'Y' => time.Year.ToString(c),
                'Z' => "",
                '%' => "%",
                _ => throw new ChatTemplateException($"strftime directive '%{directive}' is not supported"),
            });
        }
        return builder.ToString();
    }
}
