using System.Collections;

namespace Fp6.Runtime.Models.Templates;

/// <summary>Arithmetic, concatenation and comparison operators with Python's semantics (ints stay ints, / is true division).</summary>
internal static class TemplateOperators
{
    internal static object? Binary(string op, object? left, object? right)
    {
        if (op == "~")
        {
            return TemplateValues.ToText(left) + TemplateValues.ToText(right);
        }
        if (left is Undefined undefinedLeft)
        {
            throw undefinedLeft.Error();
        }
        if (right is Undefined undefinedRight)
        {
            throw undefinedRight.Error();
        }

        bool integers = left is long or bool && right is long or bool;
        if (TemplateValues.TryGetNumber(left, out double a) && TemplateValues.TryGetNumber(right, out double b))
        {
            long x = integers ? AsLong(left) : 0;
            long y = integers ? AsLong(right) : 0;
            switch (op)
            {
                case "+": return integers ? (object)(x + y) : a + b;
                case "-": return integers ? (object)(x - y) : a - b;
                case "*": return integers ? (object)(x * y) : a * b;
                case "/":
                    return b == 0 ? throw DivisionByZero() : a / b;
                case "//":
                    if (b == 0)
                    {
                        throw DivisionByZero();
                    }
                    return integers ? (object)FloorDivide(x, y) : Math.Floor(a / b);
                case "%":
                    if (b == 0)
                    {
                        throw DivisionByZero();
                    }
                    return integers ? (object)(((x % y) + y) % y) : a - (b * Math.Floor(a / b));
                case "**":
                    return integers && y >= 0 ? (object)IntegerPower(x, y) : Math.Pow(a, b);
            }
        }

        switch (op, left, right)
        {
            case ("+", string x, string y):
                return x + y;
            case ("+", IList x, IList y):
                return x.Cast<object?>().Concat(y.Cast<object?>()).ToList();
            case ("*", string s, long or bool):
                return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, AsLong(right))));
            case ("*", IList list, long or bool):
                return Enumerable.Repeat(list.Cast<object?>(), (int)Math.Max(0, AsLong(right))).SelectMany(items => items).ToList();
            case ("%", string, _):
                throw new ChatTemplateException("printf-style string formatting ('...' % value) is not supported by this template engine");
        }
        throw new ChatTemplateException(
            $"unsupported operand type(s) for {op}: '{TemplateValues.TypeName(left)}' and '{TemplateValues.TypeName(right)}'");
    }

    internal static bool Compare(string op, object? left, object? right) => op switch
    {
        "==" => TemplateValues.AreEqual(left, right),
        "!=" => !TemplateValues.AreEqual(left, right),
        "<" => TemplateValues.Compare(left, right, op) < 0,
        "<=" => TemplateValues.Compare(left, right, op) <= 0,
        ">" => TemplateValues.Compare(left, right, op) > 0,
        ">=" => TemplateValues.Compare(left, right, op) >= 0,
        "in" => TemplateBuiltins.Contains(right, left),
        "not in" => !TemplateBuiltins.Contains(right, left),
        _ => throw new ChatTemplateException($"unknown comparison '{op}'"),
    };

    internal static object? Negate(object? value) => value switch
    {
        long l => (object)(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        Undefined undefined => throw undefined.Error(),
        _ => throw new ChatTemplateException($"bad operand type for unary -: '{TemplateValues.TypeName(value)}'"),
    };

    private static long IntegerPower(long value, long exponent)
    {
        long result = 1;
        for (long i = 0; i < exponent; i++)
        {
            result = checked(result * value);
        }
        return result;
    }

    private static long AsLong(object? value) => value is bool b ? (b ? 1 : 0) : (long)value!;

    private static long FloorDivide(long x, long y)
    {
        long quotient = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? quotient - 1 : quotient;
    }

    private static ChatTemplateException DivisionByZero() => new("division by zero");
}
