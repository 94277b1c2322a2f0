namespace Fp6.Runtime.Models.Templates;

// The syntax tree of a parsed template. Every node keeps the source offset it came from, so render-time errors can
// say where they happened.

/// <summary>A statement-level node.</summary>
internal abstract record Node(int Offset);

/// <summary>Literal text.</summary>
internal sealed record TextNode(string Text, int Offset) : Node(Offset);

/// <summary><c>{{ expression }}</c></summary>
internal sealed record OutputNode(Expr Expression, int Offset) : Node(Offset);

/// <summary><c>{% if %}…{% elif %}…{% else %}…{% endif %}</c></summary>
internal sealed record IfNode(IReadOnlyList<(Expr Condition, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node>? Else, int Offset) : Node(Offset);

/// <summary><c>{% for a[, b] in iterable [if filter] %}…{% else %}…{% endfor %}</c></summary>
internal sealed record ForNode(IReadOnlyList<string> Targets, Expr Iterable, Expr? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node>? Else, int Offset) : Node(Offset);

/// <summary><c>{% set name = value %}</c>, <c>{% set a, b = value %}</c> or <c>{% set ns.attribute = value %}</c>.</summary>
internal sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, Expr Value, int Offset) : Node(Offset);

/// <summary><c>{% macro name(parameters) %}…{% endmacro %}</c></summary>
internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Node> Body, int Offset) : Node(Offset);

/// <summary><c>{% break %}</c> or <c>{% continue %}</c> (the loopcontrols extension transformers enables).</summary>
internal sealed record LoopControlNode(bool IsBreak, int Offset) : Node(Offset);

/// <summary>An expression.</summary>
internal abstract record Expr(int Offset);

/// <summary>A constant: string, long, double, bool or null (none).</summary>
internal sealed record LiteralExpr(object? Value, int Offset) : Expr(Offset);

/// <summary><c>[a, b]</c>, or a tuple <c>(a, b)</c> when <paramref name="IsTuple"/> (a list that prints with parentheses).</summary>
internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Offset, bool IsTuple = false) : Expr(Offset);

/// <summary><c>{key: value, …}</c></summary>
internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Entries, int Offset) : Expr(Offset);

/// <summary>A variable.</summary>
internal sealed record NameExpr(string Name, int Offset) : Expr(Offset);

/// <summary><c>target.name</c></summary>
internal sealed record AttributeExpr(Expr Target, string Name, int Offset) : Expr(Offset);

/// <summary><c>target[index]</c></summary>
internal sealed record ItemExpr(Expr Target, Expr Index, int Offset) : Expr(Offset);

/// <summary><c>target[start:stop:step]</c></summary>
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Offset) : Expr(Offset);

/// <summary><c>callee(arguments, name=value)</c></summary>
internal sealed record CallExpr(Expr Callee, IReadOnlyList<Expr> Arguments, IReadOnlyList<(string Name, Expr Value)> Keywords, int Offset) : Expr(Offset);

/// <summary><c>target | filter(arguments)</c></summary>
internal sealed record FilterExpr(Expr Target, string Name, IReadOnlyList<Expr> Arguments, IReadOnlyList<(string Name, Expr Value)> Keywords, int Offset) : Expr(Offset);

/// <summary><c>target is [not] test(arguments)</c></summary>
internal sealed record TestExpr(Expr Target, string Name, IReadOnlyList<Expr> Arguments, bool Negated, int Offset) : Expr(Offset);

/// <summary><c>-x</c>, <c>+x</c> or <c>not x</c>.</summary>
internal sealed record UnaryExpr(string Operator, Expr Operand, int Offset) : Expr(Offset);

/// <summary>Arithmetic and concatenation: + - * / // % ** ~</summary>
internal sealed record BinaryExpr(string Operator, Expr Left, Expr Right, int Offset) : Expr(Offset);

/// <summary><c>and</c> / <c>or</c>, short-circuiting and returning an operand, as in Python.</summary>
internal sealed record LogicalExpr(bool IsAnd, Expr Left, Expr Right, int Offset) : Expr(Offset);

/// <summary>A comparison chain: <c>a &lt; b &lt;= c</c>, with ==, !=, &lt;, &lt;=, &gt;, &gt;=, in, not in.</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Operator, Expr Operand)> Rest, int Offset) : Expr(Offset);

/// <summary><c>then if condition else otherwise</c> (the else part may be missing: then it is undefined).</summary>
internal sealed record ConditionalExpr(Expr Then, Expr Condition, Expr? Otherwise, int Offset) : Expr(Offset);
