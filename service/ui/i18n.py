"""UI text in Chinese (the default) and English; one table, looked up by key."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("晋江经开区 · 场景招商匹配", "Jinjiang EDZ · Scenario matcher"),
    "nav.catalogue": ("场景目录", "Scenarios"),
    "nav.search": ("企业搜索", "Search firms"),
    "nav.runs": ("夜间批处理", "Nightly runs"),
    "nav.portal": ("企业信息", "Company profile"),
    "nav.signout": ("退出", "Sign out"),
    "nav.api": ("API 文档", "API docs"),
    "role.admin": ("管理员", "admin"),
    "role.recruiter": ("招商专员", "recruiter"),
    "role.company": ("企业", "company"),
    "signin.title": ("登录", "Sign in"),
    "signin.key": ("API 密钥", "API key"),
    "signin.help": (
        "输入管理员分发的 API 密钥（以 smk_ 开头）。密钥只用于登录，浏览器中仅保存会话。",
        "Enter the API key the administrator gave you (it starts with smk_). "
        "The browser keeps only a session, never the key.",
    ),
    "signin.submit": ("登录", "Sign in"),
    "signin.bad": ("密钥无效或已被吊销。", "Unknown or revoked API key."),
    "signin.empty": ("请输入 API 密钥。", "Enter an API key."),
    "signin.expired": (
        "表单已过期，请重新登录。",
        "The form expired; sign in again.",
    ),
    "signin.insecure": (
        "当前为 HTTP 连接，浏览器不会保存安全会话 Cookie。请使用 HTTPS，"
        "或由管理员设置 MATCHER_COOKIE_SECURE=false。",
        "This is a plain HTTP connection, so the browser will not keep the secure session "
        "cookie. Use HTTPS, or ask the administrator to set MATCHER_COOKIE_SECURE=false.",
    ),
    "cat.title": ("场景目录", "Scenario catalogue"),
    "cat.search": (
        "搜索场景（标题、描述、关键词、园区）",
        "Search scenarios (title, text, keywords, park)",
    ),
    "cat.counts": (
        "{composites} 个综合场景，{opportunities} 个场景机会",
        "{composites} composite scenarios, {opportunities} opportunities",
    ),
    "cat.none": ("没有符合条件的场景。", "No scenario matches."),
    "col.id": ("编号", "ID"),
    "col.title": ("场景", "Scenario"),
    "col.value": ("投资额（亿元）", "Value (亿元)"),
    "col.park": ("园区", "Park"),
    "col.status": ("状态", "Status"),
    "col.industry": ("行业", "Industry"),
    "status.open": ("开放", "open"),
    "status.in_talks": ("洽谈中", "in talks"),
    "status.closed": ("已关闭", "closed"),
    "status.retired": ("已下线", "retired"),
    "sc.space": ("可提供空间", "Space offered"),
    "sc.min_invest": ("最低投资", "Minimum investment"),
    "sc.keywords": ("关键词", "Keywords"),
    "sc.chain": ("产业链环节", "Chain position"),
    "sc.certs": ("优先资质", "Preferred certifications"),
    "sc.ranked": ("匹配企业", "Ranked firms"),
    "sc.export_csv": ("导出 CSV", "Export CSV"),
    "sc.export_xlsx": ("导出 Excel", "Export Excel"),
    "sc.none": ("没有符合筛选条件的企业。", "No firm passes these filters."),
    "sc.closed": ("该场景已下线，不再匹配。", "This scenario is retired and no longer matched."),
    "sc.paused": (
        "该场景已关闭，暂停匹配；重新开放后即可再次查看匹配企业。",
        "This scenario is closed, so it is not matched; reopen it to see its firms again.",
    ),
    "sc.city_ambiguous": (
        "城市「{value}」可指多个地区：{places}；以上地区的企业均已列出。",
        "City “{value}” can mean several places: {places}; firms in any of them are listed.",
    ),
    "sc.city_unknown": (
        "城市「{value}」不在行政区划表中，按原文匹配。",
        "City “{value}” is not in the division table; it is matched as written.",
    ),
    "f.title": ("筛选", "Filters"),
    "f.industry": ("行业代码（GB/T 4754 前缀）", "Industry code (GB/T 4754 prefix)"),
    "f.city": ("城市", "City"),
    "f.min_capital": ("注册资本不低于（万元）", "Registered capital at least (万元)"),
    "f.space_min": ("所需空间 ≥（m²）", "Space needed ≥ (m²)"),
    "f.space_max": ("所需空间 ≤（m²）", "Space needed ≤ (m²)"),
    "f.chain": ("产业链环节", "Chain position"),
    "f.cert": ("资质（逗号分隔）", "Certifications (comma-separated)"),
    "f.top_k": ("显示条数", "Show"),
    "f.any": ("不限", "any"),
    "f.apply": ("应用筛选", "Apply"),
    "f.clear": ("清除", "Clear"),
    "chain.upstream": ("上游", "upstream"),
    "chain.midstream": ("中游", "midstream"),
    "chain.downstream": ("下游", "downstream"),
    "chain.service": ("配套服务", "service"),
    "m.score": ("匹配度", "Score"),
    "m.pinned": ("置顶", "pinned"),
    "m.parts": ("得分构成", "Score parts"),
    "m.terms": ("匹配词", "Matched terms"),
    "m.evidence": ("证据", "Evidence"),
    "m.demand": ("需求", "Sought"),
    "m.industry": ("行业关系", "Industry"),
    "m.cross": ("跨语言语义匹配", "cross-lingual match"),
    "m.failed": ("未满足的条件", "Failed constraints"),
    "m.profile": ("企业简介", "Profile"),
    "m.duplicates": ("疑似重复：", "Possible duplicates: "),
    "part.dense": ("语义", "semantic"),
    "part.lexical": ("词项", "lexical"),
    "part.keyword": ("关键词", "keywords"),
    "part.industry": ("行业", "industry"),
    "part.structured": ("结构化", "structured"),
    "part.learned": ("学习排序", "learned"),
    "level.class": ("同小类", "same class"),
    "level.group": ("同中类", "same group"),
    "level.division": ("同大类", "same division"),
    "level.none": ("行业无直接关联", "no direct industry link"),
    "level.inferred": ("行业代码由文本推断", "industry code inferred from the text"),
    "fb.title": ("跟进", "Follow-up"),
    "fb.shortlisted": ("入围", "shortlisted"),
    "fb.contacted": ("已联系", "contacted"),
    "fb.visited": ("已走访", "visited"),
    "fb.signed": ("已签约", "signed"),
    "fb.rejected": ("不合适", "rejected"),
    "fb.note": ("备注（可选）", "Note (optional)"),
    "fb.latest": ("最新：{stage}（{actor}，{at}）", "Latest: {stage} ({actor}, {at})"),
    "fb.none": ("尚无跟进记录", "No follow-up yet"),
    "fb.saved": ("已记录", "Saved"),
    "ctl.title": ("人工调整", "Recruiter controls"),
    "ctl.pin": ("置顶", "pin"),
    "ctl.like": ("找相似", "more like this"),
    "ctl.exclude": ("排除", "exclude"),
    "ctl.pin.help": ("固定在排名最前", "keep this firm at the top"),
    "ctl.like.help": ("把与该企业相似的企业排前", "rank firms like this one higher"),
    "ctl.exclude.help": (
        "从排名中移除（备注即原因，必填）",
        "remove from the ranking (the note is the reason, required)",
    ),
    "ctl.undo": ("撤销", "undo"),
    "ctl.reason": (
        "排除需要在备注中写明原因。",
        "An exclusion needs a reason: write it in the note.",
    ),
    "search.title": ("企业搜索", "Search firms"),
    "search.q": (
        "描述所需的企业或技术（中英文皆可）",
        "Describe the firm or technology you need (any language)",
    ),
    "search.go": ("搜索", "Search"),
    "search.none": ("没有找到企业。", "No firm found."),
    "portal.title": ("企业信息", "Company profile"),
    "portal.intro": (
        "填写或更新贵企业的信息，提交后即可看到适合的招商场景及理由。",
        "Fill in or update your firm's profile; after saving you see the scenarios that "
        "suit it, with reasons.",
    ),
    "portal.save": ("保存并查看推荐场景", "Save and see suggested scenarios"),
    "portal.saved": ("已保存（第 {version} 版）。", "Saved (version {version})."),
    "portal.unchanged": ("内容未变化，未新增版本。", "Nothing changed; no new version."),
    "portal.errors": (
        "请修正标出的字段，信息尚未保存。",
        "Please fix the marked fields; nothing was saved.",
    ),
    "portal.suggestions": ("推荐场景", "Suggested scenarios"),
    "portal.no_suggestions": (
        "暂无适合的开放场景：没有场景的匹配分达到推荐阈值。",
        "No open scenario suits this profile yet: none reaches the fit threshold.",
    ),
    "portal.list_hint": ("多个值用逗号或顿号分隔", "separate several values with commas"),
    "co.name": ("企业名称", "Firm name"),
    "co.credit_code": ("统一社会信用代码", "Unified social credit code"),
    "co.description": (
        "企业简介（主营业务、技术、产品）",
        "Description (business, technology, products)",
    ),
    "co.products": ("主要产品", "Products"),
    "co.industry_codes": ("行业代码（GB/T 4754）", "Industry codes (GB/T 4754)"),
    "co.city": ("所在城市", "City"),
    "co.founded": ("成立年份", "Year founded"),
    "co.registered_capital_wan": ("注册资本（万元）", "Registered capital (万元)"),
    "co.employees": ("员工人数", "Employees"),
    "co.certifications": ("资质认证", "Certifications"),
    "co.listed": ("是否上市", "Listed"),
    "co.intended_investment_yi": ("拟投资额（亿元）", "Intended investment (亿元)"),
    "co.space_needed_m2": ("所需用地/厂房（m²）", "Space needed (m²)"),
    "co.chain_position": ("产业链环节", "Chain position"),
    "co.contact_name": ("联系人", "Contact person"),
    "co.contact_phone": ("联系电话", "Phone"),
    "co.contact_email": ("电子邮箱", "Email"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "err.number": ("请输入数字", "enter a number"),
    "err.integer": ("请输入整数", "enter a whole number"),
    "runs.title": ("夜间批处理", "Nightly runs"),
    "runs.start": ("立即运行", "Run now"),
    "runs.started": ("已开始第 {id} 次运行。", "Run {id} started."),
    "runs.none": ("还没有运行记录。", "No run yet."),
    "runs.id": ("编号", "Run"),
    "runs.status": ("状态", "Status"),
    "runs.started_at": ("开始时间", "Started"),
    "runs.duration": ("耗时", "Duration"),
    "runs.stages": ("各阶段耗时（秒）", "Seconds per stage"),
    "runs.changes": ("进入 / 离开", "Entered / left"),
    "runs.actor": ("发起人", "By"),
    "runs.diff": ("排名变化", "What changed"),
    "runs.first": (
        "首次运行，无可比较的上一次结果。",
        "First run: nothing earlier to compare with.",
    ),
    "runs.nodiff": ("各场景前 N 名没有变化。", "No scenario's top N changed."),
    "runs.entered": ("进入", "Entered"),
    "runs.left": ("离开", "Left"),
    "runs.heatmap": (
        "热力图：场景 × 高频企业（匹配度）",
        "Heatmap: scenarios × most frequent firms (score)",
    ),
    "runs.no_snapshot": ("本次运行没有快照。", "This run has no snapshot."),
    "runs.progress": ("进行中：{stage} {done}/{total}", "Running: {stage} {done}/{total}"),
    "run.status.running": ("运行中", "running"),
    "run.status.done": ("完成", "done"),
    "run.status.failed": ("失败", "failed"),
    "run.status.interrupted": ("中断", "interrupted"),
    "why.rose": ("排名上升", "rose"),
    "why.fell": ("排名下降", "fell"),
    "why.new profile": ("新企业", "new profile"),
    "why.beat the previous cut-off": ("超过上次的入围线", "beat the previous cut-off"),
    "why.fell below the cut-off or left the data": (
        "跌出入围线或已删除",
        "fell below the cut-off or left the data",
    ),
    "why.scenario no longer ranked": ("场景不再排名", "scenario no longer ranked"),
    "error.title": ("出错了", "Something went wrong"),
    "error.403": ("无权访问此页面。", "You may not open this page."),
    "error.back": ("返回首页", "Back to the start page"),
    "lang.other": ("English", "中文"),
    # ranked table, compare, pipeline, interest (issue 19)
    "tb.rank": ("名次", "Rank"),
    "tb.firm": ("企业", "Firm"),
    "tb.score": ("得分", "Score"),
    "tb.parts": ("得分构成", "Score parts"),
    "tb.city": ("城市", "City"),
    "tb.industry": ("行业代码", "Industry"),
    "tb.stage": ("跟进阶段", "Stage"),
    "tb.flags": ("标记", "Flags"),
    "tb.sort": ("按{col}排序", "Sort by {col}"),
    "tb.sorted_asc": ("升序", "ascending"),
    "tb.sorted_desc": ("降序", "descending"),
    "tb.range": (
        "第 {first}–{last} 家，共 {total} 家（排序与分页覆盖前 {n} 名）",
        "Firms {first}–{last} of {total} (sorting and pages cover the first {n})",
    ),
    "tb.page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "tb.prev": ("上一页", "Previous"),
    "tb.next": ("下一页", "Next"),
    "tb.pager": ("分页", "Pages"),
    "tb.select": ("选择 {name} 进行对比", "Select {name} to compare"),
    "tb.detail": ("展开详情", "Show details"),
    "tb.stale": ("{n} 天无阶段变化", "No stage change for {n} days"),
    "tb.stale_short": ("久未跟进", "stale"),
    "tb.failed": ("有未满足条件", "fails a condition"),
    "tb.inferred": ("由文本推断", "inferred from the text"),
    "tb.page_size": ("每页", "Per page"),
    "cmp.button": ("对比所选企业（2–4 家）", "Compare selected (2–4)"),
    "cmp.title": ("企业对比", "Compare firms"),
    "cmp.count": (
        "请选择 2 至 4 家企业进行对比（当前选择了 {n} 家）。",
        "Select 2 to 4 firms to compare ({n} selected).",
    ),
    "cmp.missing": (
        "{ids} 不在当前筛选条件下的前 {n} 名中。",
        "{ids} not among the first {n} under these filters.",
    ),
    "cmp.back": ("返回匹配列表", "Back to the ranking"),
    "cmp.facts": ("关键信息", "Key facts"),
    "cmp.founded": ("成立年份", "Founded"),
    "cmp.capital": ("注册资本（万元）", "Registered capital (10k CNY)"),
    "cmp.employees": ("员工数", "Employees"),
    "cmp.space": ("所需空间", "Space needed"),
    "cmp.investment": ("拟投资（亿元）", "Intended investment (100M CNY)"),
    "cmp.certs": ("资质认证", "Certifications"),
    "cmp.none": ("—", "—"),
    "m.original": ("原文", "original text"),
    "exp.rows": ("{n} 行", "{n} rows"),
    "exp.up_to": ("最多 {n} 行", "up to {n} rows"),
    "exp.count_up_to": (
        "导出当前筛选的全部企业，最多 {n} 行",
        "exports every filtered firm, up to {n} rows",
    ),
    "sc.about": ("场景说明与条件", "About this scenario"),
    "exp.count": ("导出当前筛选的全部 {n} 行", "exports all {n} filtered rows"),
    "int.badge": ("有意向", "Interested"),
    "int.list": ("表达意向的企业", "Firms that said they are interested"),
    "int.mark": ("有意向", "I am interested"),
    "int.update": ("更新意向说明", "Update my note"),
    "int.withdraw": ("撤回意向", "Withdraw interest"),
    "int.note": ("简短说明（可选，最多 500 字）", "Short note (optional, up to 500 characters)"),
    "int.saved": (
        "已记录您的意向。招商专员会看到它。",
        "Your interest is recorded; recruiters see it.",
    ),
    "int.withdrawn": ("已撤回意向。", "Your interest is withdrawn."),
    "int.yours": ("您已表达意向（{at}）", "You said you are interested ({at})"),
    "int.closed": (
        "该场景暂停或已关闭，暂不接受意向。",
        "This scenario is paused or closed; it takes no interest now.",
    ),
    "int.need_profile": (
        "请先保存企业信息，再表达意向。",
        "Save your firm's profile first, then say you are interested.",
    ),
    "int.open": ("查看场景全文", "Open the scenario"),
    "nav.pipeline": ("跟进看板", "Pipeline"),
    "pl.title": ("跟进看板", "Follow-up pipeline"),
    "pl.title_one": ("{title} · 跟进看板", "{title} · pipeline"),
    "pl.all": ("全部场景", "All scenarios"),
    "pl.scope": ("场景", "Scenario"),
    "pl.actor": ("记录人", "Recorded by"),
    "pl.actor_any": ("全部", "Anyone"),
    "pl.stale_only": ("只看久未跟进", "Stale only"),
    "pl.filter": ("筛选", "Filter"),
    "pl.move": ("移至", "Move to"),
    "pl.moved": ("已移至{stage}", "Moved to {stage}"),
    "pl.note": ("说明（可选）", "Note (optional)"),
    "pl.empty": ("暂无", "None"),
    "pl.funnel": ("转化漏斗", "Funnel"),
    "pl.funnel_help": (
        "到达各阶段的企业数（已签约的企业也计入前面各阶段）；已放弃单独计数。",
        "Pairs that reached each stage (a signed firm counts for every stage before it); "
        "rejected counted apart.",
    ),
    "pl.by_composite": ("按综合场景", "By composite scenario"),
    "pl.history": ("{n} 条记录", "{n} entries"),
    "pl.interest_col": ("企业表达意向（尚无跟进）", "Interested firms (no stage yet)"),
    "pl.open_board": ("跟进看板", "Pipeline board"),
    # admin pages (issue 19)
    "nav.admin": ("管理", "Admin"),
    "adm.title": ("管理", "Admin"),
    "adm.keys": ("API 密钥", "API keys"),
    "adm.keys.help": ("创建、查看和吊销密钥", "create, list and revoke keys"),
    "adm.catalogue": ("上传场景目录", "Upload the catalogue"),
    "adm.catalogue.help": ("先预览再应用", "preview first, then apply"),
    "adm.imports": ("批量导入企业", "Import firms"),
    "adm.imports.help": (
        "后台分批导入 CSV/XLSX，查看逐行报告",
        "CSV/XLSX in the background, row by row report",
    ),
    "adm.firms": ("删除企业", "Delete a firm"),
    "adm.firms.help": ("按名称或编号查找企业并彻底删除", "find a firm by name or id and erase it"),
    "adm.created": ("创建时间", "Created"),
    "adm.cancel": ("取消", "Cancel"),
    "adm.file": ("文件", "File"),
    "adm.key.new": ("新建密钥", "New key"),
    "adm.key.role": ("角色", "Role"),
    "adm.key.name": ("名称", "Name"),
    "adm.key.company": ("企业编号", "Company id"),
    "adm.key.company_hint": ("仅企业密钥需要", "company keys only"),
    "adm.key.prefix": ("前缀", "Prefix"),
    "adm.key.revoked": ("吊销时间", "Revoked"),
    "adm.key.create": ("创建密钥", "Create key"),
    "adm.key.revoke": ("吊销", "Revoke"),
    "adm.key.errors": ("请修改标出的内容。", "Please correct the marked fields."),
    "adm.key.created": ("密钥已创建", "Key created"),
    "adm.key.once": (
        "请立即复制并妥善保存此密钥：它只显示这一次，系统不保存明文，之后无法再次查看。",
        "Copy this key and keep it safe now: it is shown this once only; the service does "
        "not keep it and cannot show it again.",
    ),
    "adm.back.keys": ("返回密钥列表", "Back to the keys"),
    "adm.cat.help": (
        "上传 YAML 或 JSON 格式的完整场景目录。先显示预览（全部错误，或将新增、修改、下线的场景），"
        "确认后才会应用；文件中没有的场景将下线。",
        "Upload the whole catalogue as YAML or JSON. A preview comes first (every error, or "
        "the scenarios it adds, changes and retires); nothing changes until you apply it. "
        "Scenarios the file lacks retire.",
    ),
    "adm.cat.preview": ("预览", "Preview"),
    "adm.cat.preview_title": ("目录预览", "Catalogue preview"),
    "adm.cat.problems": (
        "文件有 {n} 处错误，未作任何修改。请修正后重新上传：",
        "The file has {n} problem(s); nothing was changed. Fix them and upload again:",
    ),
    "adm.cat.row": ("行", "Row"),
    "adm.cat.field": ("字段", "Field"),
    "adm.cat.message": ("说明", "Message"),
    "adm.cat.again": ("重新上传", "Upload again"),
    "adm.cat.counts": (
        "文件包含 {composites} 个综合场景、{opportunities} 个场景机会。",
        "The file holds {composites} composite scenarios and {opportunities} opportunities.",
    ),
    "adm.cat.created": ("将新增 {n} 个", "{n} will be added"),
    "adm.cat.updated": ("将修改 {n} 个", "{n} will change"),
    "adm.cat.retired": ("将下线 {n} 个", "{n} will retire"),
    "adm.cat.apply": ("应用此目录", "Apply this catalogue"),
    "adm.cat.applied": ("目录已更新", "Catalogue applied"),
    "adm.cat.applied_counts": (
        "新增 {created} 个，修改 {updated} 个，下线 {retired} 个。",
        "{created} added, {updated} changed, {retired} retired.",
    ),
    "adm.cat.did.created": ("新增", "Added"),
    "adm.cat.did.updated": ("修改", "Changed"),
    "adm.cat.did.retired": ("下线", "Retired"),
    "adm.imp.help": (
        "上传 CSV（UTF-8、GB18030 等）或 XLSX。导入在后台分批进行，每批提交后即保存；"
        "中断的导入可从中断处继续。",
        "Upload a CSV (UTF-8, GB18030, ...) or XLSX. The import runs in the background in "
        "batches, each saved as it commits; an interrupted import continues where it stopped.",
    ),
    "adm.imp.start": ("开始导入", "Start the import"),
    "adm.imp.recent": ("最近的导入", "Recent imports"),
    "adm.imp.none": ("还没有导入任务。", "No import yet."),
    "adm.imp.status": ("状态", "Status"),
    "adm.imp.progress": ("进度", "Progress"),
    "adm.imp.job": ("导入 #{id}", "Import #{id}"),
    "adm.imp.done_of": ("已处理 {done} / {total} 行", "{done} of {total} rows done"),
    "adm.imp.stopped": ("停在第 {row} 行", "stopped at row {row}"),
    "adm.imp.refreshing": ("（页面每 2 秒自动刷新）", "(this page reloads every 2 s)"),
    "adm.imp.resume": ("从第 {row} 行继续", "Resume from row {row}"),
    "adm.imp.report": ("逐行报告", "Row by row report"),
    "adm.imp.no_rows": ("尚无已处理的行。", "No row done yet."),
    "adm.imp.firm": ("企业编号", "Firm id"),
    "adm.imp.st.queued": ("排队中", "queued"),
    "adm.imp.st.running": ("进行中", "running"),
    "adm.imp.st.interrupted": ("已中断", "interrupted"),
    "adm.imp.st.failed": ("失败", "failed"),
    "adm.imp.st.done": ("已完成", "done"),
    "adm.imp.c.imported": ("新增", "created"),
    "adm.imp.c.updated": ("更新", "updated"),
    "adm.imp.c.unchanged": ("未变", "unchanged"),
    "adm.imp.c.rejected": ("错误", "error"),
    "adm.firm.search": ("企业名称或编号", "Firm name or id"),
    "adm.firm.count": ("共 {n} 家", "{n} firm(s)"),
    "adm.firm.delete": ("删除…", "Delete…"),
    "adm.firm.deleted": ("企业 {id} 已删除。", "Firm {id} was deleted."),
    "adm.firm.confirm_title": ("确认删除企业", "Delete this firm?"),
    "adm.firm.confirm": ("将删除「{name}」（{id}）。", "This deletes “{name}” ({id})."),
    "adm.firm.erasure": (
        "企业的资料、全部版本、反馈与联系方式将从数据库和索引中彻底删除，无法恢复；"
        "历史记录中仅保留“已删除企业”。",
        "Its profile, every version, feedback and contact data leave the database and the "
        "index for good; history keeps only a tombstone.",
    ),
    "adm.firm.delete_now": ("确认删除", "Delete for good"),
}


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)`` in ``lang``; an unknown key shows itself, so a gap is visible."""
    i = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = pair[i] if pair else key
        return text.format(**values) if values else text

    return t


_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("必填", "required"),
    "string_too_long": ("最多 {max_length} 个字符", "at most {max_length} characters"),
    "too_long": ("最多 {max_length} 项", "at most {max_length} values"),
    "float_parsing": ("请输入数字", "enter a number"),
    "float_type": ("请输入数字", "enter a number"),
    "finite_number": ("请输入有限的数字", "enter a finite number"),
    "int_parsing": ("请输入整数", "enter a whole number"),
    "int_from_float": ("请输入整数", "enter a whole number"),
    "int_type": ("请输入整数", "enter a whole number"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "string_pattern_mismatch": ("格式不正确", "wrong format"),
    "literal_error": ("请从列表中选择", "choose a value from the list"),
    "bool_parsing": ("请选择是或否", "choose yes or no"),
}
_VALUE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"must be 18 characters, got (\d+)"), "应为 18 位，当前为 {0} 位"),
    (
        re.compile(r"contains characters not used in credit codes: (.+)"),
        "含有信用代码不使用的字符：{0}",
    ),
    (re.compile(r"check digit is (.), expected (.)"), "校验位为 {0}，应为 {1}：代码有误"),
    (re.compile(r"is empty or only whitespace"), "不能为空"),
    (re.compile(r"'(.+)' is not a GB/T 4754-2017 code"), "{0} 不是 GB/T 4754-2017 行业代码"),
    (
        re.compile(r"not a valid phone number"),
        "不是有效的电话号码：请写一个带区号的号码，如 13812345678、0595-12345678、"
        "0595-12345678 转 801",
    ),
    (re.compile(r"not a valid email address"), "不是有效的邮箱地址，如 zhang@example.com"),
)


def problem(err: Mapping[str, Any], lang: str) -> str:
    """One pydantic validation error as a short message in ``lang``."""
    kind = str(err.get("type", ""))
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    i = LANGS.index(lang) if lang in LANGS else 0
    if kind == "too_long" and isinstance(err.get("input"), str):
        kind = "string_too_long"  # a text checked after cleaning reports as a sequence
    if kind in _PROBLEMS:
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
        try:
            return _PROBLEMS[kind][i].format(**ctx)
        except (KeyError, IndexError):
            return msg
    if lang == "zh":
        for pattern, text in _VALUE_ERRORS:
            m = pattern.search(msg)
            if m:
                return text.format(*m.groups())
    return msg
