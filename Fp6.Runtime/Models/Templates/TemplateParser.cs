namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// Builds the syntax tree from the lexer's segments. The grammar and operator precedence follow Jinja's parser
/// (lowest first): conditional expression, or, and, not, comparisons, + and -, ~, * / // %, **, unary - and +, then
/// primaries with .attribute, [subscript], (call), | filter and "is" test. A construct outside the supported subset
/// fails here, naming the construct and where it is.
/// </summary>
internal sealed class TemplateParser
{
    private static readonly HashSet<string> UnsupportedStatements =
        ["include", "import", "from", "extends", "block", "call", "filter", "raw", "with", "autoescape", "trans", "do", "endset"];

    private readonly string _source;
    private readonly List<Segment> _segments;
    private int _next;

    private TemplateParser(string source, List<Segment> segments)
    {
        _source = source;
        _segments = segments;
    }

    /// <summary>Parses a template (source already newline-normalised).</summary>
    internal static IReadOnlyList<Node> Parse(string source)
    {
        var parser = new TemplateParser(source, TemplateLexer.Split(source));
        var body = parser.ParseBody([], out Statement? stop);
        if (stop is not null)
        {
            throw parser.Error($"unexpected '{{% {stop.Keyword} %}}'", stop.Offset);
        }
        return body;
    }

    /// <summary>A statement tag: its keyword and the tokens after it.</summary>
    private sealed record Statement(string Keyword, ExpressionParser Rest, int Offset);

    private List<Node> ParseBody(string[] stopKeywords, out Statement? stop)
    {
        var nodes = new List<Node>();
        while (_next < _segments.Count)
        {
            Segment segment = _segments[_next++];
            if (segment.Text is not null)
            {
                nodes.Add(new TextNode(segment.Text, segment.ContentOffset));
                continue;
            }
            switch (segment.Kind)
            {
                case TagKind.Comment:
                    continue;
                case TagKind.Output:
                    var expression = new ExpressionParser(ExpressionTokenizer.Tokenize(segment.Content, segment.ContentOffset, _source), _source);
                    nodes.Add(new OutputNode(expression.ParseTupleOrExpression(), segment.ContentOffset));
                    expression.ExpectEnd();
                    continue;
            }

            Statement statement = ReadStatement(segment);
            if (Array.IndexOf(stopKeywords, statement.Keyword) >= 0)
            {
                stop = statement;
                return nodes;
            }
            nodes.AddRange(ParseStatement(statement));
        }
        if (stopKeywords.Length > 0)
        {
            throw Error($"missing '{{% {stopKeywords[^1]} %}}' before the end of the template", _source.Length);
        }
        stop = null;
        return nodes;
    }

    private Statement ReadStatement(Segment segment)
    {
        List<Token> tokens = ExpressionTokenizer.Tokenize(segment.Content, segment.ContentOffset, _source);
        if (tokens[0].Kind != TokenKind.Name)
        {
            throw Error("a statement tag must start with a keyword", segment.ContentOffset);
        }
        var rest = new ExpressionParser(tokens.GetRange(1, tokens.Count - 1), _source);
        return new Statement(tokens[0].Text, rest, tokens[0].Offset);
    }

    private List<Node> ParseStatement(Statement statement)
    {
        ExpressionParser p = statement.Rest;
        switch (statement.Keyword)
        {
            case "if":
                return [ParseIf(statement)];
            case "for":
                return [ParseFor(statement)];
            case "set":
                return [ParseSet(statement)];
            case "macro":
                return [ParseMacro(statement)];
            case "break" or "continue":
                p.ExpectEnd();
                return [new LoopControlNode(statement.Keyword == "break", statement.Offset)];
            case "generation":
                // transformers' {% generation %} marks assistant text for masks; rendering just emits the body.
                p.ExpectEnd();
                List<Node> body = ParseBody(["endgeneration"], out Statement? end);
                end!.Rest.ExpectEnd();
                return body;
            default:
                string what = UnsupportedStatements.Contains(statement.Keyword) ? $"'{{% {statement.Keyword} %}}' is not supported by this template engine"
                    : statement.Keyword.StartsWith("end", StringComparison.Ordinal) ? $"unexpected '{{% {statement.Keyword} %}}'"
                    : $"unknown statement '{{% {statement.Keyword} %}}'";
                throw Error(what, statement.Offset);
        }
    }

    private IfNode ParseIf(Statement statement)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        IReadOnlyList<Node>? otherwise = null;
        Statement current = statement;
        while (true)
        {
            Expr condition = current.Rest.ParseExpression(allowConditional: false);
            current.Rest.ExpectEnd();
            List<Node> body = ParseBody(["elif", "else", "endif"], out Statement? stop);
            branches.Add((condition, body));
            if (stop!.Keyword == "elif")
            {
                current = stop;
                continue;
            }
            if (stop.Keyword == "else")
            {
                stop.Rest.ExpectEnd();
                otherwise = ParseBody(["endif"], out Statement? end);
                end!.Rest.ExpectEnd();
            }
            else
            {
                stop.Rest.ExpectEnd();
            }
            return new IfNode(branches, otherwise, statement.Offset);
        }
    }

    private ForNode ParseFor(Statement statement)
    {
        ExpressionParser p = statement.Rest;
        List<string> targets = p.ParseNameList();
        p.Expect("in");
        Expr iterable = p.ParseExpression(allowConditional: false);
        Expr? filter = null;
        if (p.TryAccept("if"))
        {
            filter = p.ParseExpression(allowConditional: false);
        }
        if (p.Peek.Is("recursive"))
        {
            throw Error("recursive for loops are not supported by this template engine", p.Peek.Offset);
        }
        p.ExpectEnd();
        List<Node> body = ParseBody(["else", "endfor"], out Statement? stop);
        List<Node>? otherwise = null;
        if (stop!.Keyword == "else")
        {
            stop.Rest.ExpectEnd();
            otherwise = ParseBody(["endfor"], out Statement? end);
            end!.Rest.ExpectEnd();
        }
        else
        {
            stop.Rest.ExpectEnd();
        }
        return new ForNode(targets, iterable, filter, body, otherwise, statement.Offset);
    }

    private SetNode ParseSet(Statement statement)
    {
        ExpressionParser p = statement.Rest;
        List<string> targets = p.ParseNameList();
        string? attribute = null;
        if (targets.Count == 1 && p.TryAccept("."))
        {
            attribute = p.ExpectName();
        }
        if (!p.Peek.Is("="))
        {
            throw Error("block assignments ('{% set x %}…{% endset %}') are not supported by this template engine", statement.Offset);
        }
        p.Expect("=");
        Expr value = p.ParseTupleOrExpression();
        p.ExpectEnd();
        return new SetNode(targets, attribute, value, statement.Offset);
    }

    private MacroNode ParseMacro(Statement statement)
    {
        ExpressionParser p = statement.Rest;
        string name = p.ExpectName();
        p.Expect("(");
        var parameters = new List<(string, Expr?)>();
        while (!p.TryAccept(")"))
        {
            string parameter = p.ExpectName();
            Expr? defaultValue = p.TryAccept("=") ? p.ParseExpression(allowConditional: true) : null;
            parameters.Add((parameter, defaultValue));
            if (!p.Peek.Is(")"))
            {
                p.Expect(",");
            }
        }
        p.ExpectEnd();
        List<Node> body = ParseBody(["endmacro"], out Statement? end);
        end!.Rest.ExpectEnd();
        return new MacroNode(name, parameters, body, statement.Offset);
    }

    private ChatTemplateException Error(string message, int offset) => new($"{message} ({TemplateLexer.Describe(_source, offset)})");
}
