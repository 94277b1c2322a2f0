namespace Fp6.Runtime.Models.Templates;

/// <summary>Recursive-descent parser for the expressions inside one tag (see <see cref="TemplateParser"/> for the precedence).</summary>
internal sealed class ExpressionParser(List<Token> tokens, string source)
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    /// <summary>Words that end an argument-less test (<c>x is defined and y</c>) rather than being its argument.</summary>
    private static readonly HashSet<string> Keywords = ["and", "or", "not", "in", "is", "if", "else", "elif", "recursive"];

    private int _position;

    internal Token Peek => tokens[_position];

    internal bool TryAccept(string text)
    {
        if (Peek.Is(text))
        {
            _position++;
            return true;
        }
        return false;
    }

    internal void Expect(string text)
    {
        if (!TryAccept(text))
        {
            throw Error($"expected '{text}' but found {Describe(Peek)}", Peek.Offset);
        }
    }

    internal string ExpectName()
    {
        Token token = Peek;
        if (token.Kind != TokenKind.Name)
        {
            throw Error($"expected a name but found {Describe(token)}", token.Offset);
        }
        _position++;
        return token.Text;
    }

    internal void ExpectEnd()
    {
        if (Peek.Kind != TokenKind.End)
        {
            throw Error($"unexpected {Describe(Peek)}", Peek.Offset);
        }
    }

    /// <summary>Names separated by commas (for-loop and set targets).</summary>
    internal List<string> ParseNameList()
    {
        var names = new List<string> { ExpectName() };
        while (TryAccept(","))
        {
            names.Add(ExpectName());
        }
        return names;
    }

    /// <summary>An expression, or several separated by commas (a tuple without parentheses, as in <c>{% set a, b = 1, 2 %}</c>).</summary>
    internal Expr ParseTupleOrExpression()
    {
        int offset = Peek.Offset;
        Expr first = ParseExpression(allowConditional: true);
        if (!Peek.Is(","))
        {
            return first;
        }
        var items = new List<Expr> { first };
        while (TryAccept(",") && Peek.Kind != TokenKind.End)
        {
            items.Add(ParseExpression(allowConditional: true));
        }
        return new ListExpr(items, offset, IsTuple: true);
    }

    /// <summary>A full expression; <paramref name="allowConditional"/> is false where a following "if" belongs to the statement.</summary>
    internal Expr ParseExpression(bool allowConditional)
    {
        Expr expression = ParseOr();
        if (!allowConditional)
        {
            return expression;
        }
        while (Peek.Is("if"))
        {
            int offset = Peek.Offset;
            _position++;
            Expr condition = ParseOr();
            Expr? otherwise = TryAccept("else") ? ParseExpression(allowConditional: true) : null;
            expression = new ConditionalExpr(expression, condition, otherwise, offset);
        }
        return expression;
    }

    private Expr ParseOr() => ParseLogical("or", isAnd: false, ParseAnd);

    private Expr ParseAnd() => ParseLogical("and", isAnd: true, ParseNot);

    // A left-associative chain of one logical keyword over the next-tighter level: a or b or c = (a or b) or c.
    private Expr ParseLogical(string keyword, bool isAnd, Func<Expr> operand)
    {
        Expr left = operand();
        while (Peek.Is(keyword))
        {
            int offset = Peek.Offset;
            _position++;
            left = new LogicalExpr(isAnd, left, operand(), offset);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Peek.Is("not"))
        {
            int offset = Peek.Offset;
            _position++;
            return new UnaryExpr("not", ParseNot(), offset);
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int offset = Peek.Offset;
        Expr first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Peek.Kind == TokenKind.Operator && CompareOperators.Contains(Peek.Text))
            {
                string op = Peek.Text;
                _position++;
                rest.Add((op, ParseMath1()));
            }
            else if (Peek.Is("in"))
            {
                _position++;
                rest.Add(("in", ParseMath1()));
            }
            else if (Peek.Is("not") && tokens[_position + 1].Is("in"))
            {
                _position += 2;
                rest.Add(("not in", ParseMath1()));
            }
            else
            {
                break;
            }
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, offset);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "+" or "-")
        {
            Token op = tokens[_position++];
            left = new BinaryExpr(op.Text, left, ParseConcat(), op.Offset);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        Expr left = ParseMath2();
        while (Peek.Is("~"))
        {
            Token op = tokens[_position++];
            left = new BinaryExpr("~", left, ParseMath2(), op.Offset);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        while (Peek.Kind == TokenKind.Operator && Peek.Text is "*" or "/" or "//" or "%")
        {
            Token op = tokens[_position++];
            left = new BinaryExpr(op.Text, left, ParsePow(), op.Offset);
        }
        return left;
    }

    private Expr ParsePow()
    {
        Expr left = ParseUnary(withFilter: true);
        while (Peek.Is("**"))
        {
            Token op = tokens[_position++];
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), op.Offset);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Expr expression;
        if (Peek.Kind == TokenKind.Operator && Peek.Text is "-" or "+")
        {
            Token op = tokens[_position++];
            expression = new UnaryExpr(op.Text, ParseUnary(withFilter: false), op.Offset);
        }
        else
        {
            expression = ParsePrimary();
        }
        expression = ParsePostfix(expression);
        return withFilter ? ParseFilterAndTest(expression) : expression;
    }

    private Expr ParsePrimary()
    {
        Token token = Peek;
        _position++;
        switch (token.Kind)
        {
            case TokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpr(true, token.Offset),
                    "false" or "False" => new LiteralExpr(false, token.Offset),
                    "none" or "None" => new LiteralExpr(null, token.Offset),
                    _ => new NameExpr(token.Text, token.Offset),
                };
            case TokenKind.String:
                // Adjacent literals concatenate, as in Python: 'it''s' is "its".
                string text = (string)token.Value!;
                while (Peek.Kind == TokenKind.String)
                {
                    text += (string)tokens[_position++].Value!;
                }
                return new LiteralExpr(text, token.Offset);
            case TokenKind.Integer or TokenKind.Float:
                return new LiteralExpr(token.Value, token.Offset);
            case TokenKind.Operator when token.Text == "(":
                if (TryAccept(")"))
                {
                    return new ListExpr([], token.Offset, IsTuple: true);
                }
                Expr inner = ParseTupleOrExpression();
                Expect(")");
                return inner;
            case TokenKind.Operator when token.Text == "[":
                var items = new List<Expr>();
                while (!TryAccept("]"))
                {
                    items.Add(ParseExpression(allowConditional: true));
                    if (!Peek.Is("]"))
                    {
                        Expect(",");
                    }
                }
                return new ListExpr(items, token.Offset);
            case TokenKind.Operator when token.Text == "{":
                var entries = new List<(Expr, Expr)>();
                while (!TryAccept("}"))
                {
                    Expr key = ParseExpression(allowConditional: true);
                    Expect(":");
                    entries.Add((key, ParseExpression(allowConditional: true)));
                    if (!Peek.Is("}"))
                    {
                        Expect(",");
                    }
                }
                return new DictExpr(entries, token.Offset);
            default:
                throw Error($"unexpected {Describe(token)}", token.Offset);
        }
    }

    private Expr ParsePostfix(Expr expression)
    {
        while (true)
        {
            Token token = Peek;
            if (token.Is("."))
            {
                _position++;
                Token name = Peek;
                _position++;
                expression = name.Kind switch
                {
                    TokenKind.Name => new AttributeExpr(expression, name.Text, name.Offset),
                    TokenKind.Integer => new ItemExpr(expression, new LiteralExpr(name.Value, name.Offset), name.Offset),
                    _ => throw Error($"expected an attribute name after '.' but found {Describe(name)}", name.Offset),
                };
            }
            else if (token.Is("["))
            {
                _position++;
                expression = ParseSubscript(expression, token.Offset);
            }
            else if (token.Is("("))
            {
                _position++;
                var (arguments, keywords) = ParseArguments();
                expression = new CallExpr(expression, arguments, keywords, token.Offset);
            }
            else
            {
                return expression;
            }
        }
    }

    private Expr ParseSubscript(Expr target, int offset)
    {
        Expr? start = Peek.Is(":") ? null : ParseExpression(allowConditional: true);
        if (TryAccept("]"))
        {
            return new ItemExpr(target, start!, offset);
        }
        Expect(":");
        Expr? stop = Peek.Is(":") || Peek.Is("]") ? null : ParseExpression(allowConditional: true);
        Expr? step = null;
        if (TryAccept(":") && !Peek.Is("]"))
        {
            step = ParseExpression(allowConditional: true);
        }
        Expect("]");
        return new SliceExpr(target, start, stop, step, offset);
    }

    /// <summary>Arguments after "(" up to ")": positional first, then name=value.</summary>
    private (List<Expr>, List<(string, Expr)>) ParseArguments()
    {
        var arguments = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        while (!TryAccept(")"))
        {
            if (Peek.Is("*") || Peek.Is("**"))
            {
                throw Error("*args and **kwargs in calls are not supported by this template engine", Peek.Offset);
            }
            if (Peek.Kind == TokenKind.Name && tokens[_position + 1].Is("="))
            {
                string name = Peek.Text;
                _position += 2;
                keywords.Add((name, ParseExpression(allowConditional: true)));
            }
            else
            {
                if (keywords.Count > 0)
                {
                    throw Error("a positional argument follows a keyword argument", Peek.Offset);
                }
                arguments.Add(ParseExpression(allowConditional: true));
            }
            if (!Peek.Is(")"))
            {
                Expect(",");
            }
        }
        return (arguments, keywords);
    }

    private Expr ParseFilterAndTest(Expr expression)
    {
        while (true)
        {
            Token token = Peek;
            if (token.Is("|"))
            {
                _position++;
                Token nameToken = Peek;
                string name = ExpectName();
                if (!TemplateBuiltins.HasFilter(name))
                {
                    throw Error($"filter '{name}' is not supported by this template engine", nameToken.Offset);
                }
                List<Expr> arguments = [];
                List<(string, Expr)> keywords = [];
                if (TryAccept("("))
                {
                    (arguments, keywords) = ParseArguments();
                }
                expression = new FilterExpr(expression, name, arguments, keywords, nameToken.Offset);
            }
            else if (token.Is("is"))
            {
                _position++;
                bool negated = TryAccept("not");
                Token nameToken = Peek;
                string name = nameToken.Kind == TokenKind.Name ? ExpectName() : TestOperatorName();
                if (!TemplateBuiltins.HasTest(name))
                {
                    throw Error($"test '{name}' is not supported by this template engine", nameToken.Offset);
                }
                var arguments = new List<Expr>();
                if (TryAccept("("))
                {
                    (arguments, _) = ParseArguments();
                }
                else if (Peek.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
                         || (Peek.Kind == TokenKind.Name && !Keywords.Contains(Peek.Text)))
                {
                    // Jinja allows one argument without parentheses: "x is divisibleby 3", "x is sameas false".
                    arguments.Add(ParsePostfix(ParsePrimary()));
                }
                expression = new TestExpr(expression, name, arguments, negated, nameToken.Offset);
            }
            else if (token.Is("("))
            {
                _position++;
                var (arguments, keywords) = ParseArguments();
                expression = new CallExpr(expression, arguments, keywords, token.Offset);
            }
            else
            {
                return expression;
            }
        }
    }

    /// <summary>Tests may be named by an operator: "x is == 3", "x is &lt; 3".</summary>
    private string TestOperatorName()
    {
        Token token = Peek;
        if (token.Kind == TokenKind.Operator && (CompareOperators.Contains(token.Text)))
        {
            _position++;
            return token.Text;
        }
        throw Error($"expected a test name after 'is' but found {Describe(token)}", token.Offset);
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "the end of the tag",
        TokenKind.String => "a string",
        TokenKind.Integer or TokenKind.Float => $"number {token.Text}",
        _ => $"'{token.Text}'",
    };

    private ChatTemplateException Error(string message, int offset) => new($"{message} ({TemplateLexer.Describe(source, offset)})");
}
