using System.Text;

namespace Fp6.Runtime.Models.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table: each of the 256 byte values gets a printable Unicode character, so byte-level
/// BPE can work on strings. Printable Latin-1 bytes map to themselves; the other 68 to U+0100 onwards, in order.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    internal static char Encode(byte value) => ByteToChar[value];

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, each replaced by its stand-in character.</summary>
    internal static string EncodeUtf8(ReadOnlySpan<char> text)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(text, bytes);
        Span<char> chars = byteCount <= 512 ? stackalloc char[byteCount] : new char[byteCount];
        for (int i = 0; i < byteCount; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }
        return new string(chars);
    }

    /// <summary>
    /// Appends the bytes <paramref name="token"/> stands for. A token with a character outside the table (an added
    /// token such as "&lt;|im_start|&gt;" written with other characters) contributes its own UTF-8 bytes instead, as
    /// Hugging Face's ByteLevel decoder does.
    /// </summary>
    internal static void AppendBytes(string token, List<byte> destination)
    {
        foreach (char c in token)
        {
            if (!CharToByte.ContainsKey(c))
            {
                destination.AddRange(Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (char c in token)
        {
            destination.Add(CharToByte[c]);
        }
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[ByteToChar[b]] = (byte)b;
        }
        return map;
    }
}
