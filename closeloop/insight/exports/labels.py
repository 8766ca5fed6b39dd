"""The wording of the two monthly documents (投诉汇总表, 分析统计报告), Chinese and English.

Like the printed feedback form (handling/pdf.py), the documents' own headings are a fixed bilingual
table rather than catalogue entries: a report that is approved and sent must read the same whatever
state the translation catalogue is in. Values that come from the data (statuses, channels, types …)
use the model labels in the report's language.
"""

from __future__ import annotations

from django.utils.translation import get_language

# key: (中文, English)
WORDS: dict[str, tuple[str, str]] = {
    # --- summary table (附表二) ---
    "summary_title": ("客户投诉汇总表", "Complaint summary table"),
    "sheet_rows": ("投诉汇总表", "Complaints"),
    "sheet_department": ("按责任部门", "By department"),
    "sheet_type": ("按投诉类型", "By type"),
    "sheet_product": ("按产品", "By product"),
    "sheet_region": ("按地区", "By region"),
    "sheet_comparison": ("环比同比", "Comparison"),
    "sheet_trend": ("近十二个月趋势", "12-month trend"),
    "sheet_pareto": ("原因分类帕累托", "Root causes (Pareto)"),
    "sheet_league_departments": ("部门排名", "Department ranking"),
    "sheet_league_handlers": ("责任人排名", "Handler ranking"),
    "sheet_top_issues": ("重点问题", "Top issues"),
    "sheet_cost": ("质量成本", "Cost of quality"),
    "number": ("投诉编号", "Number"),
    "received_at": ("接收时间", "Received"),
    "registered_at": ("登记时间", "Registered"),
    "resolved_at": ("解决时间", "Resolved"),
    "closed_at": ("结案时间", "Closed"),
    "channel": ("投诉渠道", "Channel"),
    "customer_kind": ("投诉人类型", "Complainant type"),
    "customer_name": ("客户姓名", "Customer name"),
    "customer_phone": ("联系电话", "Phone"),
    "province": ("省份", "Province"),
    "city": ("城市", "City"),
    "product_line": ("产品线", "Product line"),
    "product": ("产品（型号）", "Product (model)"),
    "batch": ("批次号", "Batch"),
    "type": ("投诉类型", "Type"),
    "priority": ("优先级", "Priority"),
    "department": ("责任部门", "Responsible department"),
    "handlers": ("处理责任人", "Handler(s)"),
    "status": ("状态", "Status"),
    "description": ("投诉内容", "Description"),
    "measures": ("处理措施", "Measures"),
    "compensation_amount": ("补偿金额（元）", "Compensation (CNY)"),
    "compensation_form": ("补偿形式", "Compensation form"),
    "result": ("处理结果", "Result"),
    "satisfaction": ("客户满意度", "Satisfaction"),
    "repeat": ("重复投诉", "Repeat"),
    "reopen_count": ("重开次数", "Reopened"),
    "deadline_ack": ("确认时限", "Acknowledgement deadline"),
    "deadline_resolution": ("解决时限", "Resolution deadline"),
    "deadline_followup": ("回访时限", "Follow-up deadline"),
    "masked_note": ("个人信息已脱敏", "personal data masked"),
    "unmasked_note": ("含个人信息，仅限授权人员使用", "contains personal data: for authorised staff only"),
    "complaints": ("投诉数", "Complaints"),
    "open": ("未结", "Open"),
    "resolved": ("已解决", "Resolved"),
    "counts": ("分子/分母", "num/den"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "not_given": ("未填写", "not given"),
    "not_in_catalogue": ("目录外产品", "not in the catalogue"),
    "none": ("无", "none"),
    # deadline states
    "on_time": ("按时完成", "met on time"),
    "late": ("超时完成", "met late"),
    "overdue": ("逾期未完成", "overdue"),
    "running": ("未到期", "open"),
    "no_deadline": ("—", "—"),
    # --- analysis report (附表三) ---
    "report_title": ("客户投诉分析统计报告", "Complaint analysis report"),
    "period": ("统计期间", "Period"),
    "previous_period": ("上期", "Previous period"),
    "generated_at": ("生成时间", "Generated"),
    "as_of": ("数据截至", "Data as of"),
    "report_status": ("报告状态", "Status"),
    "page": ("第 %(n)s 页", "page %(n)s"),
    "s_summary": ("一、本期摘要", "1. Summary"),
    "s_overview": ("二、投诉量及趋势", "2. Volume and trend"),
    "s_distribution": ("三、投诉分布", "3. Distribution"),
    "s_pareto": ("四、根本原因帕累托分析", "4. Pareto of root causes"),
    "s_kpis": ("五、考核指标", "5. KPIs"),
    "s_satisfaction": ("六、客户满意度", "6. Customer satisfaction"),
    "s_repeat_overdue": ("七、重复投诉与逾期投诉", "7. Repeat and overdue complaints"),
    "s_actions": ("八、改进措施", "8. Improvement actions"),
    "s_suggestions": ("九、收到的改进建议", "9. Suggestions received"),
    "s_defects": ("十、批次问题（缺陷事件）", "10. Defect incidents"),
    # the four parts seed 001 asks for (基本情况、分析过程、分析结果、改进建议)
    "s_basic": ("一、基本情况", "1. Basic situation"),
    "s_process": ("二、分析过程", "2. Analysis process"),
    "s_results": ("三、分析结果", "3. Analysis results"),
    "s_recommendations": ("四、改进建议", "4. Recommendations"),
    "h_volume": ("（一）投诉量：环比、同比及近十二个月趋势", "Volume: previous period, last year, 12 months"),
    "h_distribution": ("（二）投诉分布", "Distribution"),
    "h_method": ("（一）分析方法与统计口径", "Method and basis"),
    "h_pareto": ("（二）根本原因分类（人、机、料、法、环、测）帕累托分析", "Root causes by category (Pareto)"),
    "h_kpis": ("（三）考核指标：环比、同比及趋势", "KPIs: previous period, last year, trend"),
    "h_conclusions": ("（一）分析与结论", "Analysis and conclusions"),
    "h_league": ("（二）部门与处理责任人排名", "League tables"),
    "h_top_issues": ("（三）重点问题：型号 × 投诉类型（前十）", "Top issues: model × type (top 10)"),
    "h_cost": ("（四）质量成本（补偿、退货、换货）", "Cost of quality (compensation, refunds, replacements)"),
    "h_satisfaction": ("（五）客户满意度", "Customer satisfaction"),
    "h_repeat_overdue": ("（六）重复投诉与逾期投诉", "Repeat and overdue complaints"),
    "h_defects": ("（七）批次问题（缺陷事件）", "Defect incidents"),
    "h_actions": ("（一）改进措施及其效果", "Improvement actions and their effect"),
    "h_open_actions": ("（二）进行中的改进措施", "Open improvement actions"),
    "h_suggestions": ("（三）收到的改进建议", "Suggestions received"),
    "method_text": (
        "数据分析法：以本期受理的有效投诉（不含无效及重复登记）为统计对象，按投诉类型、产品、地区、渠道统计分布；"
        "因果分析法：按人、机、料、法、环、测对责任人反馈表中的根本原因分类并做帕累托分析；"
        "对比分析法：投诉量及各项考核指标与上期、去年同期及近十二个月趋势对比，部门与处理责任人按考核指标排名。",
        "Data analysis: the valid complaints received in the period (without invalid and duplicate ones), by type, "
        "product, region and channel. Cause analysis: the root causes of the feedback forms by category (man, "
        "machine, material, method, environment, measurement) as a Pareto. Comparison: volume and every KPI against "
        "the previous period, the same period last year and the last 12 months; departments and handlers ranked.",
    ),
    "year_ago": ("去年同期", "Same period last year"),
    "yoy_change": ("同比变化", "Against last year"),
    "kpi_trend_title": ("近十二个月主要指标（%）", "Main KPIs over 12 months (%)"),
    "kpi_trend_table": ("各指标近十二个月（%）", "Every KPI over 12 months (%)"),
    "rank": ("名次", "Rank"),
    "breaches": ("超时", "Breaches"),
    "repeats": ("重复", "Repeats"),
    "reopens": ("重开", "Reopened"),
    "trend": ("趋势", "Trend"),
    "rank_by_department": (
        "责任部门排名（按投诉处理及时率，其次超时次数）",
        "Departments (by timely processing, then breaches)",
    ),
    "rank_by_handler": (
        "处理责任人排名（按及时回复率，其次超时次数）",
        "Handlers (by timely reply rate, then breaches)",
    ),
    "uncategorised": ("未分类", "uncategorised"),
    "category": ("原因类别", "Category"),
    "sub_cause": ("细分原因", "Sub-cause"),
    "model": ("型号", "Model"),
    "total": ("合计", "Total"),
    "actions_targeting": ("相关改进措施", "Actions targeting it"),
    "effect_target": ("针对", "Targets"),
    "effect_done": ("完成日期", "Done"),
    "effect_window": ("窗口（天）", "Window (days)"),
    "effect_complaints": ("投诉数 前→后", "Complaints before→after"),
    "effect_satisfaction": ("满意度 前→后", "Satisfaction before→after"),
    "cost_month": ("月份", "Month"),
    "compensation": ("补偿金额（元）", "Compensation (CNY)"),
    "compensations": ("补偿笔数", "Compensations"),
    "refunds": ("退货退款", "Refunds"),
    "replacements": ("换货", "Replacements"),
    "solutions": ("方案数", "Solutions"),
    "cost_by_month": ("按月", "By month"),
    "cost_by_department": ("按责任部门", "By department"),
    "cost_by_model": ("按产品型号", "By model"),
    "cost_by_cause": ("按原因类别", "By root-cause category"),
    "conclusions_by": ("撰写：%(name)s　%(at)s", "Written by %(name)s, %(at)s"),
    "conclusions_generated": (
        "（系统生成的摘要，待客服主管审核时补充分析与结论）",
        "(generated summary; the CS supervisor writes the analysis when reviewing)",
    ),
    "tasks": ("任务数", "Tasks"),
    "volume_current": ("本期有效投诉", "Complaints this period"),
    "volume_previous": ("上期有效投诉", "Previous period"),
    "volume_change": ("环比变化", "Change"),
    "trend_title": ("近十二个月投诉量", "Complaints over the last 12 months"),
    "by_type": ("按投诉类型", "By type"),
    "by_product_line": ("按产品线", "By product line"),
    "by_product": ("按产品型号（前十）", "By model (top 10)"),
    "by_province": ("按地区（省份）", "By region (province)"),
    "by_channel": ("按投诉渠道", "By channel"),
    "share": ("占比", "Share"),
    "count": ("数量", "Count"),
    "cumulative": ("累计占比", "Cumulative"),
    "root_cause": ("根本原因", "Root cause"),
    "kpi": ("指标", "KPI"),
    "target": ("目标", "Target"),
    "rate": ("比率", "Rate"),
    "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"),
    "previous_rate": ("上期", "Previous"),
    "meets": ("达标", "Met"),
    "kpi_overall": ("公司整体", "Company"),
    "kpi_by_department": ("按责任部门", "By department"),
    "kpi_by_handler": ("按处理责任人", "By handler"),
    "name": ("名称", "Name"),
    "response_times": ("响应及解决用时（工作小时）", "Response and resolution time (working hours)"),
    "median": ("中位数", "median"),
    "p90": ("90分位", "90th percentile"),
    "milestone_first_response": ("首次响应", "First response"),
    "milestone_resolution": ("解决", "Resolution"),
    "level": ("满意度等级", "Level"),
    "followups_rated": ("有评价的回访", "Rated follow-ups"),
    "repeat_list": ("本期重复投诉", "Repeat complaints this period"),
    "overdue_list": ("当前逾期未完成的投诉", "Complaints overdue now"),
    "original": ("原投诉", "Original"),
    "next_due": ("应完成时间", "Due"),
    "received": ("接收时间", "Received"),
    "actions_by_status": ("按状态统计", "By status"),
    "action_number": ("编号", "Number"),
    "action_title": ("改进措施", "Action"),
    "owner": ("责任部门/人", "Owner"),
    "due": ("期限", "Due"),
    "source": ("来源", "Source"),
    "suggestion": ("建议内容", "Suggestion"),
    "complaint": ("投诉编号", "Complaint"),
    "incident": ("事件", "Incident"),
    "model_batch": ("型号/批次", "Model / batch"),
    "opened": ("立案时间", "Opened"),
    "grouped": ("涉及投诉", "Complaints"),
    "nothing": ("（无）", "(none)"),
    "not_available": ("（暂无数据）", "(not available)"),
    "other": ("其他", "other"),
    "from_feedback_form": ("责任人反馈表", "feedback form"),
    "from_followup": ("回访", "follow-up"),
    "overdue_flag": ("已逾期", "overdue"),
    "largest_changes": ("变化最大的三项：", "The largest changes:"),
    "no_changes": ("与上期相比无明显变化。", "Nothing changed notably against the previous period."),
}

# KPI names as the documents print them (the model's labels carry both languages at once).
KPI_NAMES: dict[str, tuple[str, str]] = {
    "timely_processing": ("投诉处理及时率", "Timely processing rate"),
    "timely_reply": ("及时回复率", "Timely reply rate"),
    "communication": ("沟通率", "Communication rate"),
    "result_reply": ("结果回复率", "Result reply rate"),
    "satisfaction": ("客户满意度", "Satisfaction rate"),
    "repeat": ("客户投诉重复率", "Repeat complaint rate"),
    "ack_on_time": ("及时确认率", "Acknowledgement on time"),
    "followup_on_time": ("及时回访率", "Follow-up on time"),
    "reopen": ("重开率", "Reopen rate"),
}

# Short forms for narrow table headers.
KPI_SHORT: dict[str, tuple[str, str]] = {
    "timely_processing": ("处理及时率", "Timely proc."),
    "timely_reply": ("回复及时率", "Timely reply"),
    "communication": ("沟通率", "Contact"),
    "result_reply": ("结果回复率", "Result reply"),
    "satisfaction": ("满意度", "Satisfied"),
    "repeat": ("重复率", "Repeat"),
    "ack_on_time": ("确认及时率", "Ack. on time"),
    "followup_on_time": ("回访及时率", "Follow-up o.t."),
    "reopen": ("重开率", "Reopen"),
}

DIMENSION_NAMES: dict[str, tuple[str, str]] = {
    "type": ("投诉类型", "type"),
    "product_line": ("产品线", "product line"),
    "province": ("地区", "region"),
}


def is_english(language: str | None = None) -> bool:
    return (language or get_language() or "zh-hans").lower().startswith("en")


def word(key: str, language: str | None = None, table: dict[str, tuple[str, str]] = WORDS) -> str:
    zh, en = table[key]
    return en if is_english(language) else zh


def kpi_name(kpi: str, language: str | None = None, *, short: bool = False) -> str:
    table = KPI_SHORT if short else KPI_NAMES
    return word(kpi, language, table) if kpi in table else kpi
