"""Synthetic scenarios with ground truth: an organic crowd, a fan crowd, planted operations.

Used by ``swarmscope demo``, by the tests of every detector and by the
benchmarks. The data is written in real formats (X API v2 twarc2 pages,
a Telegram Desktop channel export, TikTok Research API video-query pages,
YouTube Data API commentThreads pages) so the importers are exercised too,
the copy-paste crew working across platforms, and
``truth.json`` says which accounts and posts were planted, by which
operation, with which figures (burst window, the 73-post run, the operators'
UTC offset and holiday country, creation batches, narrative switch,
impersonated entities). docs/simulate.md describes the scenario.

Behaviour, not viewpoint: every name, outlet, topic and hashtag is invented.
Deterministic for a seed: the same parameters give byte-identical files.
Columnar: texts are composed from word lists with pyarrow, times and ids
with numpy, and the JSON is written by DuckDB; Python loops only over small
things (languages, waves of the operation, template variants).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import store

# --------------------------------------------------------------------------
# Parameters and result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioParams:
    """What to generate. The defaults make the demo: about 20k X posts, a few seconds.

    The window (``start`` + ``days``) and the operation's calendar are chosen
    so that the traits a detector must find are present: the default window
    holds four Azerbaijani public holidays on weekdays (8, 11, 12, 13
    November 2024) and two transferred working Saturdays (16 and 23
    November), which ``holidays.country_holidays('AZ')`` lists.
    """

    seed: int = 7
    # Organic crowd: accounts in seven languages; posts are originals, reposts and replies
    # (about 8 per account, heavy-tailed: most accounts post little, a few a lot).
    n_organic_accounts: int = 1500
    n_organic_posts: int = 12_000
    start: dt.date = dt.date(2024, 10, 21)  # a Monday
    days: int = 42
    repost_share: float = 0.30  # share of organic posts that are reposts (X: roughly a third)
    reply_share: float = 0.08  # replies (with an @mention of the parent's author)
    # Fan crowd (hard negative): organic accounts bursting on one hashtag during a match.
    n_fan_accounts: int = 400
    fan_hashtag: str = "AuroraCupFinal"
    fan_event_date: dt.date = dt.date(2024, 11, 30)
    fan_event_utc_hour: int = 17  # kick-off 20:00 at UTC+3: a local evening
    fan_event_minutes: int = 120
    # a) copy-paste network run from an office.
    n_copypaste_accounts: int = 100  # the brief's range is 50-150
    waves_per_workday: int = 4  # texts pushed per working day, each by 30-60% of the accounts
    operator_utc_offset: float = 4.0  # Baku time; matches holiday_country
    holiday_country: str = "AZ"  # any code holidays.country_holidays() knows
    office_hours: tuple[int, int] = (9, 18)  # local, operators' time
    election_date: dt.date = dt.date(2024, 11, 27)  # narrative switch one week before
    run_length: int = 73  # DESIGN.md's automation examples: one text 73 times in a row,
    burst_posts: int = 1000  # and 1,000 posts in ten minutes
    burst_minutes: int = 10
    burst_hashtag: str = "KörpüGünü"
    # b) fast co-repost amplifier.
    n_amplifier_accounts: int = 50
    n_amplified_posts: int = 40
    amplifier_spread_seconds: int = 8  # all reposts of one target within this many seconds (< 10 s)
    # c) impersonators of watchlist entities.
    posts_per_impersonator: int = 25
    # Telegram channel the operation runs, posting each text minutes before the X wave.
    telegram: bool = True
    # TikTok share (a Research API video-query response). Part of the copy-paste crew runs TikTok
    # accounts that post each X wave's messages within minutes, most over the operation's own sound
    # (co-use of one sound within minutes is a known TikTok coordination trace); the organic TikTok
    # crowd posts diverse descriptions over many sounds, and one viral sound spreads over days
    # among many organic users (the hard negative for the sound object).
    tiktok: bool = True
    n_tiktok_operation_accounts: int = 30  # a slice of the crew, as in takedown reports' per-platform counts
    tiktok_wave_share: tuple[float, float] = (0.3, 0.6)  # share of them posting in each X wave
    tiktok_operation_sound_share: float = 0.75  # their videos over the operation's own sound
    n_tiktok_organic_accounts: int = 300
    n_tiktok_organic_videos: int = 1500
    n_tiktok_viral_sound_users: int = 120  # organic users posting one viral sound, spread over days
    # YouTube share (commentThreads responses): operation channels comment each chosen wave's
    # messages under one of a few videos within minutes, amid organic comments.
    youtube: bool = True
    n_youtube_operation_accounts: int = 20
    n_youtube_videos: int = 6
    youtube_wave_share: float = 0.25  # share of the X waves the YouTube crew joins
    n_youtube_organic_accounts: int = 400
    n_youtube_organic_comments: int = 1500  # 15% of them replies inside threads

    def __post_init__(self) -> None:
        end = self.start + dt.timedelta(days=self.days)
        problems = []
        if self.days < 21:
            problems.append("days must be at least 21 (the operation runs over weeks)")
        if not self.start < self.election_date - dt.timedelta(days=7) < end:
            problems.append("election_date - 7 days (the narrative switch) must fall inside the window")
        if not self.start <= self.fan_event_date < end:
            problems.append("fan_event_date must fall inside the window")
        if self.n_copypaste_accounts < 10 or not 5 <= self.n_amplifier_accounts <= 9000:
            problems.append("the operations need at least 10 copy-paste and 5-9,000 amplifier accounts")
        if self.n_organic_accounts < 2 * self.n_fan_accounts or self.n_organic_accounts < 50:
            problems.append("n_organic_accounts must be at least 50 and twice n_fan_accounts")
        if not 0 <= self.repost_share + self.reply_share < 0.9:
            problems.append("repost_share + reply_share must be below 0.9")
        if self.election_date - dt.timedelta(days=7) < self.start + dt.timedelta(days=14):
            problems.append("the narrative switch (election_date - 7 days) must come at least 14 days after start: "
                            "the run and the burst happen on working days before it")
        h0, h1 = self.office_hours
        if not (0 <= h0 and h0 + 4 <= h1 <= 24):
            problems.append("office_hours must be (start, end) local hours at least 4 hours apart")
        if not 0 <= self.amplifier_spread_seconds < 10:
            problems.append("amplifier_spread_seconds must be 0-9 (co-reposts within seconds)")
        try:
            holidays.country_holidays(self.holiday_country)
        except NotImplementedError:
            problems.append(f"holiday_country {self.holiday_country!r} is not known to the holidays package")
        if self.burst_minutes < 1 or self.burst_posts < 1:
            problems.append("burst_posts and burst_minutes must be positive")
        if self.tiktok:
            lo, hi = self.tiktok_wave_share
            if self.n_tiktok_operation_accounts < 5 or not 0 < lo <= hi <= 1:
                problems.append("the TikTok crew needs at least 5 accounts and 0 < tiktok_wave_share[0] <= [1] <= 1")
            if not 0 <= self.tiktok_operation_sound_share <= 1:
                problems.append("tiktok_operation_sound_share must be within 0-1")
            if self.n_tiktok_organic_accounts < 20 or self.n_tiktok_organic_videos < self.n_tiktok_organic_accounts \
                    or not 0 <= self.n_tiktok_viral_sound_users <= self.n_tiktok_organic_accounts:
                problems.append("n_tiktok_organic_accounts must be at least 20, at most n_tiktok_organic_videos, "
                                "and at least n_tiktok_viral_sound_users")
        if self.youtube:
            if self.n_youtube_operation_accounts < 5 or self.n_youtube_videos < 1 \
                    or not 0 < self.youtube_wave_share <= 1:
                problems.append("the YouTube crew needs at least 5 accounts, 1 video and 0 < youtube_wave_share <= 1")
            if self.n_youtube_organic_accounts < 20 or self.n_youtube_organic_comments < self.n_youtube_organic_accounts:
                problems.append("n_youtube_organic_accounts must be at least 20 and at most n_youtube_organic_comments")
        if problems:
            raise ValueError("ScenarioParams: " + "; ".join(problems))


@dataclass(frozen=True)
class Scenario:
    """What ``generate`` wrote: the input files, truth.json, and the watchlist."""

    files: list[Path]  # inputs to ingest (X v2 JSONL, Telegram result.json, TikTok and YouTube JSONL)
    truth_path: Path
    truth: dict
    watchlist_path: Path | None = None
    x_files: list[Path] = field(default_factory=list)
    telegram_files: list[Path] = field(default_factory=list)
    tiktok_files: list[Path] = field(default_factory=list)
    youtube_files: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------
# Word lists (invented, neutral; one entry per language)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lang:
    words: tuple[str, ...]  # commonest first: drawn with Zipf weights
    names: tuple[tuple[str, str], ...]  # (latin for handles, native for display names)
    surnames: tuple[tuple[str, str], ...]
    hashtags: tuple[str, ...]
    fan_words: tuple[str, ...]
    cities: tuple[str, ...]
    news_domain: str
    utc_offsets: tuple[tuple[float, float], ...]  # (offset hours, share)
    share: float  # share of organic accounts


def _w(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split("|") if x.strip())


def _pairs(s: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p.split("=")) for p in _w(s))  # type: ignore[misc]


LANGS: dict[str, _Lang] = {
    "en": _Lang(
        _w("the|a|and|to|is|my|this|of|in|for|with|on|our|that|today|really|new|so|just|again|week|day|"
           "morning|coffee|weather|city|friends|music|book|reading|walk|park|train|late|think|love|weekend|"
           "work|meeting|finally|dinner|recipe|garden|rain|sunny|cold|street|market|movie|series|episode|"
           "watching|learning|project|ideas|team|photo|beautiful|quiet|busy|tired|happy|great|small|big|"
           "night|evening|home|family|kids|school|teacher|concert|tickets|bus|traffic|bike|gym|tea|bread|"
           "cake|soup|apples|news|story|question|answer|maybe|always|never|sometimes|because|neighbours|"
           "library|river|bridge|autumn|holiday|podcast|guitar|painting|museum|breakfast|lunch|office"),
        _pairs("james=James|emma=Emma|oliver=Oliver|sophia=Sophia|liam=Liam|grace=Grace|noah=Noah|"
               "chloe=Chloe|jack=Jack|ella=Ella|harry=Harry|amelia=Amelia|leo=Leo|ruby=Ruby|sam=Sam|lucy=Lucy"),
        _pairs("smith=Smith|jones=Jones|taylor=Taylor|brown=Brown|walker=Walker|wright=Wright|green=Green|"
               "hall=Hall|wood=Wood|clarke=Clarke"),
        _w("MondayMotivation|coffee|books|music|photography|weekend|travel|football|gardening|cooking"),
        _w("what a goal|unbelievable|come on|referee|penalty|what a save|extra time|half time|"
           "best final ever|my heart|the stadium is loud|keeper|legend|we believe|corner|offside"),
        _w("London|Manchester|New York|Toronto|Leeds|Bristol|Seattle"),
        "dailyharbour.co.uk", ((-5.0, 0.35), (0.0, 0.45), (-8.0, 0.20)), 0.30,
    ),
    "ru": _Lang(
        _w("и|в|на|не|я|что|это|с|очень|уже|ещё|мой|наш|сегодня|утро|кофе|погода|город|друзья|музыка|"
           "книга|читаю|гулять|парк|поезд|поздно|снова|правда|думаю|люблю|новый|неделя|выходные|работа|"
           "встреча|наконец|ужин|рецепт|сад|дождь|солнечно|холодно|улица|рынок|фильм|сериал|смотрю|учу|"
           "проект|идеи|команда|фото|красиво|тихо|занят|устал|рад|отлично|маленький|большой|день|ночь|"
           "вечер|дом|семья|дети|школа|концерт|билеты|автобус|пробки|велосипед|чай|хлеб|торт|суп|яблоки|"
           "новости|история|вопрос|ответ|может|всегда|никогда|иногда|потому|соседи|библиотека|река|осень|"
           "отпуск|подкаст|гитара|музей|завтрак|обед|офис"),
        _pairs("aleksei=Алексей|olga=Ольга|dmitry=Дмитрий|natalia=Наталья|sergei=Сергей|irina=Ирина|"
               "pavel=Павел|elena=Елена|ivan=Иван|marina=Марина|andrei=Андрей|tatiana=Татьяна|"
               "nikita=Никита|anna=Анна|maxim=Максим|yulia=Юлия"),
        _pairs("ivanov=Иванов|petrov=Петров|smirnov=Смирнов|volkov=Волков|sokolov=Соколов|popov=Попов|"
               "lebedev=Лебедев|kozlov=Козлов|novikov=Новиков|morozov=Морозов"),
        _w("погода|книги|музыка|выходные|кофе|фото|футбол|осень|кино|рецепты"),
        _w("гол|какой матч|невероятно|судья|пенальти|вратарь|давай|финал|мурашки|овертайм|"
           "лучший финал|стадион ревёт|легенда|угловой|офсайд"),
        _w("Москва|Санкт-Петербург|Казань|Новосибирск|Екатеринбург|Самара"),
        "gorodnovosti.ru", ((3.0, 0.8), (5.0, 0.1), (7.0, 0.1)), 0.18,
    ),
    "fa": _Lang(
        _w("و|در|به|از|این|که|با|را|من|ما|خیلی|امروز|صبح|قهوه|هوا|شهر|دوستان|موسیقی|کتاب|خواندن|"
           "پیاده‌روی|پارک|قطار|دیر|دوباره|واقعا|فکر|دوست|جدید|هفته|آخرهفته|کار|جلسه|بالاخره|شام|"
           "دستور|باغ|باران|آفتابی|سرد|خیابان|بازار|فیلم|سریال|تماشا|یادگیری|پروژه|ایده|تیم|عکس|زیبا|"
           "آرام|شلوغ|خسته|خوشحال|عالی|کوچک|بزرگ|روز|شب|عصر|خانه|خانواده|بچه‌ها|مدرسه|کنسرت|بلیط|"
           "اتوبوس|ترافیک|دوچرخه|چای|نان|کیک|سوپ|سیب|خبر|داستان|سوال|جواب|شاید|همیشه|هرگز|گاهی|"
           "چون|همسایه|کتابخانه|رودخانه|پاییز|تعطیلات|پادکست|گیتار|موزه|صبحانه|ناهار|دفتر"),
        _pairs("ali=علی|maryam=مریم|reza=رضا|zahra=زهرا|hossein=حسین|fatemeh=فاطمه|mehdi=مهدی|"
               "sara=سارا|amir=امیر|narges=نرگس|saeed=سعید|leila=لیلا"),
        _pairs("ahmadi=احمدی|hosseini=حسینی|karimi=کریمی|rezaei=رضایی|moradi=مرادی|mousavi=موسوی|"
               "jafari=جعفری|sadeghi=صادقی"),
        _w("تهران|کتاب|موسیقی|عکاسی|آشپزی|سفر|فوتبال|هنر|پاییز|سینما"),
        _w("گل|چه بازی|باورنکردنی|داور|پنالتی|دروازه‌بان|فینال|وقت اضافه|بهترین فینال|ورزشگاه|"
           "اسطوره|کرنر|آفساید|قلبم"),
        _w("تهران|اصفهان|شیراز|تبریز|مشهد"),
        "khabarnameh.ir", ((3.5, 1.0),), 0.10,
    ),
    "az": _Lang(
        _w("və|bu|bir|çox|üçün|ilə|mən|biz|da|də|artıq|bu gün|səhər|qəhvə|hava|şəhər|dostlar|musiqi|"
           "kitab|oxuyuram|gəzinti|park|qatar|gec|yenə|həqiqətən|düşünürəm|sevirəm|yeni|həftə|həftəsonu|"
           "iş|görüş|nəhayət|şam yeməyi|resept|bağ|yağış|günəşli|soyuq|küçə|bazar|film|serial|baxıram|"
           "öyrənirəm|layihə|fikirlər|komanda|şəkil|gözəl|sakit|məşğul|yorğun|xoşbəxt|əla|kiçik|böyük|"
           "gün|gecə|axşam|ev|ailə|uşaqlar|məktəb|konsert|bilet|avtobus|tıxac|velosiped|çay|çörək|tort|"
           "şorba|alma|xəbər|hekayə|sual|cavab|bəlkə|həmişə|heç vaxt|bəzən|çünki|qonşular|kitabxana|"
           "çay sahili|payız|tətil|podkast|gitara|muzey|səhər yeməyi|nahar|ofis"),
        _pairs("elvin=Elvin|aysel=Aysel|rashad=Rəşad|gunel=Günel|tural=Tural|nigar=Nigar|orkhan=Orxan|"
               "leyla=Leyla|farid=Fərid|sevinj=Sevinc|kamran=Kamran|aynur=Aynur|murad=Murad|ulviyya=Ülviyyə"),
        _pairs("mammadli=Məmmədli|aliyeva=Əliyeva|hasanli=Həsənli|huseynli=Hüseynli|guliyev=Quliyev|"
               "ismayilli=İsmayıllı|jafarli=Cəfərli|babayev=Babayev"),
        _w("Bakı|musiqi|kitab|futbol|səyahət|təbiət|qəhvə|payız|kino|resept"),
        _w("qol|nə oyundur|inanılmaz|hakim|penalti|qapıçı|final|əlavə vaxt|ən yaxşı final|stadion|"
           "əfsanə|künc zərbəsi|ofsayd|ürəyim"),
        _w("Bakı|Gəncə|Sumqayıt|Lənkəran|Şəki|Quba"),
        "xeberler-baki.az", ((4.0, 1.0),), 0.12,
    ),
    "fr": _Lang(
        _w("le|la|et|de|à|les|un|une|pour|avec|mon|notre|ce|très|déjà|aujourd'hui|matin|café|météo|"
           "ville|amis|musique|livre|lecture|promenade|parc|train|tard|encore|vraiment|pense|adore|nouveau|"
           "semaine|week-end|travail|réunion|enfin|dîner|recette|jardin|pluie|ensoleillé|froid|rue|marché|"
           "film|série|regarde|apprends|projet|idées|équipe|photo|magnifique|calme|occupé|fatigué|content|"
           "génial|petit|grand|jour|nuit|soir|maison|famille|enfants|école|concert|billets|bus|"
           "embouteillages|vélo|thé|pain|gâteau|soupe|pommes|nouvelles|histoire|question|réponse|peut-être|"
           "toujours|jamais|parfois|voisins|bibliothèque|rivière|automne|vacances|podcast|guitare|musée|"
           "petit-déjeuner|déjeuner|bureau"),
        _pairs("camille=Camille|louis=Louis|chloe=Chloé|hugo=Hugo|lea=Léa|jules=Jules|manon=Manon|"
               "arthur=Arthur|ines=Inès|theo=Théo|sarah=Sarah|lucas=Lucas"),
        _pairs("martin=Martin|bernard=Bernard|dubois=Dubois|durand=Durand|lefebvre=Lefèbvre|moreau=Moreau|"
               "laurent=Laurent|girard=Girard"),
        _w("Paris|lecture|musique|cuisine|photo|weekend|voyage|foot|automne|cinéma"),
        _w("quel but|incroyable|arbitre|penalty|gardien|allez|finale|prolongations|frissons|"
           "meilleure finale|le stade chante|légende|corner|hors-jeu"),
        _w("Paris|Lyon|Marseille|Lille|Montréal|Bordeaux"),
        "journal-du-nord.fr", ((1.0, 0.9), (-5.0, 0.1)), 0.10,
    ),
    "tr": _Lang(
        _w("ve|bu|bir|çok|için|ile|ben|biz|de|da|artık|bugün|sabah|kahve|hava|şehir|arkadaşlar|müzik|"
           "kitap|okuyorum|yürüyüş|park|tren|geç|yine|gerçekten|düşünüyorum|seviyorum|yeni|hafta|"
           "hafta sonu|iş|toplantı|sonunda|akşam yemeği|tarif|bahçe|yağmur|güneşli|soğuk|sokak|pazar|film|"
           "dizi|izliyorum|öğreniyorum|proje|fikirler|ekip|fotoğraf|güzel|sakin|meşgul|yorgun|mutlu|harika|"
           "küçük|büyük|gün|gece|akşam|ev|aile|çocuklar|okul|konser|bilet|otobüs|trafik|bisiklet|çay|"
           "ekmek|pasta|çorba|elma|haber|hikaye|soru|cevap|belki|her zaman|asla|bazen|çünkü|komşular|"
           "kütüphane|nehir|sonbahar|tatil|podcast|gitar|müze|kahvaltı|öğle yemeği|ofis"),
        _pairs("emre=Emre|zeynep=Zeynep|burak=Burak|elif=Elif|mert=Mert|ayse=Ayşe|can=Can|selin=Selin|"
               "ozan=Ozan|defne=Defne|kerem=Kerem|buse=Buse"),
        _pairs("yilmaz=Yılmaz|kaya=Kaya|demir=Demir|sahin=Şahin|celik=Çelik|yildiz=Yıldız|aydin=Aydın|"
               "ozturk=Öztürk"),
        _w("İstanbul|kitap|müzik|futbol|kahve|seyahat|fotoğraf|hafta_sonu|sonbahar|sinema"),
        _w("gol|ne maç|inanılmaz|hakem|penaltı|kaleci|final|uzatma|tüylerim diken diken|en iyi final|"
           "stat yıkılıyor|efsane|korner|ofsayt"),
        _w("İstanbul|Ankara|İzmir|Bursa|Antalya|Eskişehir"),
        "gunluk-haber.com.tr", ((3.0, 1.0),), 0.12,
    ),
    "ar": _Lang(
        _w("و|في|على|من|إلى|مع|هذا|جدا|أنا|نحن|اليوم|صباح|قهوة|الطقس|المدينة|أصدقاء|موسيقى|كتاب|"
           "قراءة|نزهة|حديقة|قطار|متأخر|مرة أخرى|حقا|أعتقد|أحب|جديد|أسبوع|عطلة|عمل|اجتماع|أخيرا|عشاء|"
           "وصفة|بستان|مطر|مشمس|بارد|شارع|سوق|فيلم|مسلسل|أشاهد|أتعلم|مشروع|أفكار|فريق|صورة|جميل|هادئ|"
           "مشغول|متعب|سعيد|رائع|صغير|كبير|يوم|ليل|مساء|بيت|عائلة|أطفال|مدرسة|حفلة|تذاكر|حافلة|زحام|"
           "دراجة|شاي|خبز|كعكة|شوربة|تفاح|أخبار|قصة|سؤال|جواب|ربما|دائما|أبدا|أحيانا|لأن|جيران|مكتبة|"
           "نهر|خريف|إجازة|بودكاست|غيتار|متحف|فطور|غداء|مكتب"),
        _pairs("omar=عمر|fatima=فاطمة|khaled=خالد|noor=نور|youssef=يوسف|huda=هدى|ahmed=أحمد|layla=ليلى|"
               "karim=كريم|salma=سلمى|tariq=طارق|rana=رنا"),
        _pairs("haddad=حداد|mansour=منصور|saleh=صالح|nasser=ناصر|hamdan=حمدان|khalil=خليل|azzam=عزام|"
               "fares=فارس"),
        _w("القاهرة|كتب|موسيقى|كرة_القدم|سفر|قهوة|تصوير|طبخ|خريف|سينما"),
        _w("هدف|يا لها من مباراة|لا يصدق|الحكم|ركلة جزاء|الحارس|النهائي|وقت إضافي|أفضل نهائي|"
           "الملعب يهتز|أسطورة|ركنية|تسلل|قلبي"),
        _w("القاهرة|الرياض|عمّان|بيروت|الدوحة|تونس"),
        "akhbar-alyawm.net", ((3.0, 0.5), (2.0, 0.3), (4.0, 0.2)), 0.08,
    ),
}

_SHARED_DOMAINS = ("youtube.com", "en.wikipedia.org", "medium.com", "open.spotify.com", "github.com")
_ENDINGS = ("", "", "", "", ".", ".", "!", "?", "...", " 🙂", " 😂", " ❤️", " 👍", " 🔥", " 🙏", " 😅", "!!")
_FAN_EMOJI = ("", "⚽", "⚽🔥", "😱", "🙌", "🏆", "💙", "😭", "👏👏", "🔥🔥🔥")
_EMOJI_ONLY = ("🔥", "😂😂", "❤️", "👏", "🙏", "😍", "💯", "🤔")
# Local-hour activity profile of ordinary users: quiet nights, a lunch bump, evening peak.
_DIURNAL = np.array([1.0, 0.6, 0.35, 0.2, 0.15, 0.2, 0.45, 0.9, 1.3, 1.4, 1.4, 1.5,
                     1.8, 1.6, 1.4, 1.4, 1.5, 1.8, 2.3, 2.8, 3.2, 3.3, 2.8, 1.8])
_CLIENTS = ("Twitter for Android", "Twitter for iPhone", "Twitter Web App", "Twitter for iPad")
_CLIENT_SHARES = (0.45, 0.33, 0.19, 0.03)

# Genuine entities on the watchlist (they post normally and must not be flagged).
_GENUINE = (
    # handle, display name, language, own domain, description, UTC offset
    ("ilkinrahimli", "Ilkin Rahimli", "az", "mintrans-demo.gov.az", "Nəqliyyat naziri | Minister of Transport", 4),
    ("caspiandaily", "Caspian Daily Herald", "en", "caspiandailyherald.az", "News from the Caspian region", 4),
    ("meridiannews", "Meridian News Network", "en", "meridiannewsnetwork.com", "Independent news, 24/7", 0),
    ("nordobservateur", "Le Nord Observateur", "fr", "nord-observateur.fr", "Quotidien régional", 1),
    ("anatoliasabah", "Anatolia Sabah", "tr", "anatoliasabah.com.tr", "Günün haberleri", 3),
)
# Impersonators: (handle, display name, index of the imitated entity in _GENUINE, trick).
_IMPERSONATORS = (
    ("ilkinrahimIi", "Ilkin Rahimli", 0, "homoglyph: capital I for l in the handle"),
    ("ilkinrahimli_official", "Ilkin Rahimli (Official)", 0, "added 'official'"),
    ("caspiandaily_news", "Caspian Daily Herald News", 1, "added 'news'"),
    ("caspiandai1y", "\u0421aspian Daily Herald", 1, "digit 1 for l; Cyrillic С in the name"),
    ("meridiannews24", "Meridian News Network", 2, "added digits"),
    ("rneridiannews", "Meridian News Netw\u043erk", 2, "'rn' for 'm'; Cyrillic о in the name"),
)
_FAKE_DOMAINS = ("caspiandaily-herald.info", "meridian-news-net.live", "gov-bulletin.site")
_NEWS_PREFIX = {"az": "SON DƏQİQƏ:", "en": "BREAKING:", "ru": "СРОЧНО:", "fr": "URGENT :", "tr": "SON DAKİKA:"}

# The operation's messages: (language, body, hashtags). {day} {month} take the election date.
_SET_BEFORE = (
    ("az", "Yaşıl Körpü layihəsi şəhərimizə yeni nəfəs gətirir", ("YaşılKörpü", "İrəli")),
    ("az", "Yeni körpü minlərlə insanın yolunu qısaldacaq", ("YaşılKörpü", "YeniYol")),
    ("az", "Gənclər üçün yeni iş yerləri yaradılır, bu gələcəyə investisiyadır", ("İrəli", "GələcəkBizimlə")),
    ("az", "Hər gün daha çox insan layihəni dəstəkləyir", ("YaşılKörpü", "GələcəkBizimlə")),
    ("ru", "Проект Зелёный мост меняет наш город к лучшему", ("YaşılKörpü", "ЗелёныйМост")),
    ("en", "The Green Bridge project is bringing the whole city together", ("GreenBridge", "YaşılKörpü")),
)
_SET_AFTER = (
    ("az", "{day} {month_az} hamı seçki məntəqəsinə! Səsin gələcəyi müəyyən edir", ("Seçki2024", "SəsVer")),
    ("az", "Seçkidə iştirak etmək hər birimizin borcudur", ("SəsVer", "GələcəkBizimlə")),
    ("az", "Sabitlik və inkişaf üçün {day} {month_az} səs ver", ("Seçki2024", "Sabitlik")),
    ("ru", "Голосуй {day} {month_ru} за будущее нашего города", ("Выборы2024", "SəsVer")),
    ("en", "Every vote counts on {day} {month_en}, see you at the polls", ("Election2024", "SəsVer")),
)
_BURST = (
    ("az", "Bu gün Körpü Günüdür, hamı bizimlə", ()),
    ("az", "Körpü Günü: gələcəyə birlikdə addımlayırıq", ()),
    ("ru", "Сегодня День моста, все с нами", ()),
)
_RUN_TEXT = "Yaşıl Körpü — gələcəyin yolu! Hamı dəstəkləyir 👍 #YaşılKörpü"
_MONTHS = {
    "az": ("yanvarda", "fevralda", "martda", "apreldə", "mayda", "iyunda", "iyulda", "avqustda", "sentyabrda",
           "oktyabrda", "noyabrda", "dekabrda"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
_HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445"}
_OP_EMOJI = ("👍", "💪", "🙌", "✅", "🇦🇿", "❤️", "👏", "🌉")
_OP_FILLERS = ("Razıyam.", "Bax!", "Doğrudur.", "Paylaşın!", "👉")
_OP_BIOS = ("Gələcək bizimlə | Future with us", "Yeni yol, yeni gün 🌉", "Vətəndaş. Ata. Bakı.", "")
_OP_FULLNAMES = _pairs(
    "aysel=Aysel Məmmədova|leyla=Leyla Əliyeva|nigar=Nigar Həsənli|gunel=Günel Quliyeva|"
    "farid=Fərid Hüseynov|rashad=Rəşad Babayev|tural=Tural Cəfərov|elvin=Elvin İsmayılov|"
    "kamran=Kamran Rzayev|murad=Murad Səfərov|aynur=Aynur Kərimova|sevinj=Sevinc Nəbiyeva|"
    "orkhan=Orxan Abbasov|ulviyya=Ülviyyə Məlikova|samir=Samir Vəliyev|nargiz=Nərgiz Qasımova"
)
_AMP_WORDS = _w("blue|quick|silver|north|happy|lucky|bright|urban|solar|green|night|river|stone|cloud|"
                "fox|hawk|wolf|lake|pine|star|wave|echo|nova|bear|leaf|rain|sky|tiger|moon|sun")

_DAY = 86_400
_SNOWFLAKE_EPOCH_MS = 1_288_834_974_657  # X's snowflake epoch
_RETRIEVED_AFTER_DAYS = 1  # the collection ran one day after the window


# --------------------------------------------------------------------------
# Small columnar helpers
# --------------------------------------------------------------------------


def _ts(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


def _base36(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(int(i), 36)
        out = digits[r] + out
        if not i:
            return out


def _iso(s: int) -> str:
    return dt.datetime.fromtimestamp(int(s), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zipf_p(n: int, s: float = 0.9) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars."""
    return pc.binary_join_element_wise(*parts, "")


def _pick(rng: np.random.Generator, values: tuple[str, ...] | list[str], n: int,
          p: np.ndarray | None = None) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(rng.choice(len(values), n, p=p)))


def _compose(rng: np.random.Generator, words: tuple[str, ...], n: int, lo: int, hi: int) -> pa.Array:
    """n texts of lo..hi words drawn with Zipf weights (common words first), capitalised."""
    lengths = rng.integers(lo, hi + 1, n)
    flat = rng.choice(len(words), int(lengths.sum()), p=_zipf_p(len(words)))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(list(words), pa.string()).take(pa.array(flat)))
    return pc.utf8_capitalize(pc.binary_join(lists, " "))


def _tags_text(tags: pa.ListArray) -> pa.Array:
    """' #a #b' for each list of hashtags ('' for none)."""
    joined = pc.binary_join(tags, " #")
    return pc.if_else(pc.equal(joined, ""), "", _join(" #", joined))


def _tco(rng: np.random.Generator, n: int) -> pa.Array:
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    codes = np.ascontiguousarray(alphabet[rng.integers(0, 62, (n, 10))]).view("<U10").ravel()
    return pc.binary_join_element_wise("https://t.co/", pa.array(codes, pa.string()), "")


def _url_lists(rng: np.random.Generator, expanded: pa.Array, has: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(list<struct<url, expanded_url>>, ' https://t.co/..' text) with one link where ``has``."""
    n = len(has)
    tco = _tco(rng, n)
    counts = has.astype(np.int32)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    idx = pa.array(np.flatnonzero(has))
    structs = pa.StructArray.from_arrays([tco.take(idx), expanded.take(idx)], ["url", "expanded_url"])
    text = pc.if_else(pa.array(has), _join(" ", tco), "")
    return pa.ListArray.from_arrays(offsets, structs), text


def _random_urls(rng: np.random.Generator, domains: tuple[str, ...] | list[str], n: int,
                 p: np.ndarray | None = None) -> pa.Array:
    sections = ("news", "article", "story", "p", "watch", "blog", "2024")
    num = pa.array(rng.integers(100_000, 9_999_999, n).astype(str), pa.string())
    utm = pc.if_else(pa.array(rng.random(n) < 0.2), "?utm_source=twitter&utm_medium=social", "")
    return _join("https://", _pick(rng, domains, n, p), "/", _pick(rng, sections, n), "/", num, utm)


def _tag_lists(rng: np.random.Generator, pool: tuple[str, ...], n: int, k_max: int, share: float) -> pa.Array:
    """Lists of 0..k_max distinct hashtags from ``pool`` (Zipf), on a ``share`` of the rows."""
    k = np.where(rng.random(n) < share, rng.integers(1, k_max + 1, n), 0)
    draws = rng.choice(len(pool), (n, k_max), p=_zipf_p(len(pool), 1.1))
    keep = np.arange(k_max)[None, :] < k[:, None]
    for j in range(1, k_max):  # drop repeats within a row
        keep[:, j] &= ~(draws[:, j][:, None] == draws[:, :j]).any(axis=1)
    counts = keep.sum(axis=1)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(list(pool), pa.string()).take(pa.array(draws[keep])))


def _list_of(values: list[list[str]]) -> pa.Array:
    return pa.array(values, pa.list_(pa.string()))


_URL_T = pa.list_(pa.struct([("url", pa.string()), ("expanded_url", pa.string())]))


def _empty_lists(n: int, type_: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], type_.value_type))


# --------------------------------------------------------------------------
# Accumulators: accounts and posts as column blocks, concatenated at the end
# --------------------------------------------------------------------------


class _Accounts:
    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.n = 0

    def add(self, **cols: Any) -> np.ndarray:
        k = len(cols["username"])
        self.blocks.append(cols)
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def column(self, name: str) -> Any:
        parts = [b[name] for b in self.blocks]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return pa.array([x for part in parts for x in part], pa.string())


class _Posts:
    """Skeleton posts: author index, time, kind, parent index, body and entities."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.n = 0

    def add(self, role: str, s: np.ndarray, author: np.ndarray, body: pa.Array | None, lang: pa.Array,
            tags: pa.Array | None = None, urls: pa.Array | None = None, parent: np.ndarray | None = None,
            kind: str = "post", client: pa.Array | None = None) -> np.ndarray:
        k = len(s)
        if k == 0:
            return np.arange(0)
        self.blocks.append(dict(
            s=np.asarray(s, np.int64), author=np.asarray(author, np.int64),
            kind=np.full(k, {"post": 0, "repost": 1, "reply": 2}[kind], np.int8),
            parent=np.full(k, -1, np.int64) if parent is None else np.asarray(parent, np.int64),
            body=body if body is not None else pa.nulls(k, pa.string()),
            lang=lang, tags=tags if tags is not None else _empty_lists(k, pa.list_(pa.string())),
            urls=urls if urls is not None else _empty_lists(k, _URL_T),
            client=client if client is not None else pa.repeat("Twitter Web App", k),
            role=np.full(k, _ROLES.index(role), np.int8),
        ))
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def col(self, name: str) -> Any:
        parts = [b[name] for b in self.blocks]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return pa.concat_arrays([p.cast(parts[0].type) for p in parts])


_ROLES = ("organic", "genuine", "fan", "copypaste", "run", "burst", "amplifier", "impersonator")


# --------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------


def _organic_accounts(rng: np.random.Generator, acc: _Accounts, n: int, before: int) -> dict[str, Any]:
    """Ordinary accounts: language, time zone, handle, profile. Returns per-account arrays."""
    codes = list(LANGS)
    lang_i = rng.choice(len(codes), n, p=np.array([LANGS[c].share for c in codes]) / sum(
        LANGS[c].share for c in codes))
    offset = np.zeros(n)
    username, name, loc = [], [], []
    for li, code in enumerate(codes):  # per language: small loop
        m = lang_i == li
        k = int(m.sum())
        L = LANGS[code]
        offs, shares = zip(*L.utc_offsets)
        offset[m] = rng.choice(offs, k, p=np.array(shares) / sum(shares))
        fi = rng.integers(0, len(L.names), k)
        si = rng.integers(0, len(L.surnames), k)
        style = rng.integers(0, 5, k)
        digits = rng.integers(0, 10_000, k)
        year = rng.integers(1970, 2006, k)
        for j in range(k):  # per account, only for profile strings (accounts are few)
            first, first_n = L.names[fi[j]]
            last, last_n = L.surnames[si[j]]
            st = style[j]
            if st == 0:
                h = f"{first}{last}"
            elif st == 1:
                h = f"{first}_{last}"
            elif st == 2:
                h = f"{first}{digits[j] % 100:02d}"
            elif st == 3:
                h = f"{first[0]}{last}{year[j]}"
            else:
                h = f"{first}.{last[:3]}".replace(".", "_") + str(digits[j] % 1000)
            username.append(h[:15])
            name.append(f"{first_n} {last_n}" if st != 2 else first_n)
        loc_choice = rng.integers(0, len(L.cities) + 2, k)  # some leave it empty
        loc_vals = [L.cities[c] if c < len(L.cities) else None for c in loc_choice]
        loc.append((np.flatnonzero(m), loc_vals))
    # handles must be unique: a repeat gets its index in base 36 (letters and digits, not a digit run)
    order = np.argsort(lang_i, kind="stable")
    uname_sorted = np.empty(n, dtype=object)
    uname_sorted[order] = np.array(username, dtype=object)
    _, first_seen = np.unique(uname_sorted, return_index=True)
    dup = np.ones(n, bool)
    dup[first_seen] = False
    uname_sorted[dup] = [f"{u[:10]}_{_base36(i)}" for u, i in zip(uname_sorted[dup], np.flatnonzero(dup))]
    name_sorted = np.empty(n, dtype=object)
    name_sorted[order] = np.array(name, dtype=object)
    location = np.empty(n, dtype=object)
    for where, vals in loc:
        location[where] = vals
    # account age: most accounts years old, a few recent
    created = before - (rng.gamma(2.0, 2.2, n) * 365 * _DAY).astype(np.int64) - rng.integers(0, _DAY, n)
    created = np.maximum(created, _ts(dt.date(2008, 3, 1)) + rng.integers(0, 365 * _DAY, n))
    followers = np.minimum(rng.lognormal(np.log(180), 1.5, n), 2_000_000).astype(np.int64)
    following = np.minimum(rng.lognormal(np.log(250), 1.0, n), 7_500).astype(np.int64)
    bio_has = rng.random(n) < 0.7
    bio = np.empty(n, dtype=object)
    for li, code in enumerate(codes):
        m = np.flatnonzero((lang_i == li) & bio_has)
        bio[m] = _compose(rng, LANGS[code].words, len(m), 3, 9).to_pylist()
    lang_codes = np.array(codes)[lang_i]
    img_n = rng.integers(10**17, 10**18, n)
    img_h = np.ascontiguousarray(
        np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))[rng.integers(0, 36, (n, 8))]).view("<U8").ravel()
    default_img = rng.random(n) < 0.12
    images = [
        "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png" if d
        else f"https://pbs.twimg.com/profile_images/{a}/{b}_normal.jpg"
        for a, b, d in zip(img_n.tolist(), img_h.tolist(), default_img.tolist())
    ]
    idx = acc.add(username=list(uname_sorted), name=list(name_sorted), description=list(bio),
                  created=created, followers=followers, following=following,
                  location=list(location), verified=np.zeros(n, bool), image=images)
    return {"idx": idx, "lang": lang_codes, "offset": offset, "followers": followers, "created": created}


# --------------------------------------------------------------------------
# Organic posts
# --------------------------------------------------------------------------


def _local_times(rng: np.random.Generator, n: int, start: int, days: int, offset: np.ndarray) -> np.ndarray:
    """UTC seconds of n posts whose local hour follows the diurnal profile, inside the window."""
    day = rng.integers(0, days, n)
    hour = rng.choice(24, n, p=_DIURNAL / _DIURNAL.sum())
    local = day * _DAY + hour * 3600 + rng.integers(0, 3600, n)
    utc = local - (offset * 3600).astype(np.int64)
    return start + np.mod(utc, days * _DAY)


def _by_lang(langs: np.ndarray, make: Any) -> pa.Array:
    """Call ``make(code, k)`` once per language and scatter its k values back to the rows of that language."""
    parts, where = [], []
    for code in LANGS:
        m = np.flatnonzero(langs == code)
        if len(m):
            parts.append(make(code, len(m)))
            where.append(m)
    if not parts:
        return pa.array([], pa.string())
    back = np.empty(len(langs), np.int64)
    back[np.concatenate(where)] = np.arange(len(langs))
    return pa.concat_arrays([x.cast(parts[0].type) for x in parts]).take(pa.array(back))


def _texts_by_lang(rng: np.random.Generator, langs: np.ndarray, lo: int, hi: int,
                   words_of: str = "words") -> pa.Array:
    """One composed text per row in the row's language."""
    return _by_lang(langs, lambda code, k: _compose(rng, getattr(LANGS[code], words_of), k, lo, hi))


def _organic_bodies(rng: np.random.Generator, langs: np.ndarray,
                    link_domains: list[str]) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(text, lang, hashtags, urls) of ordinary original posts; emoji-only posts have lang 'und'."""
    n = len(langs)
    body = _texts_by_lang(rng, langs, 5, 20)
    body = _join(body, _pick(rng, _ENDINGS, n))
    emoji_only = rng.random(n) < 0.004
    body = pc.if_else(pa.array(emoji_only), _pick(rng, _EMOJI_ONLY, n), body)
    tags = _by_lang(langs, lambda code, k: _tag_lists(rng, LANGS[code].hashtags, k, 2, 0.25))
    tags = pc.if_else(pa.array(emoji_only), _empty_lists(n, pa.list_(pa.string())), tags)
    has_url = (rng.random(n) < 0.12) & ~emoji_only
    own = _by_lang(langs, lambda code, k: pa.repeat(LANGS[code].news_domain, k))
    shared = _random_urls(rng, link_domains, n)
    # half the links go to a news site in the post's language
    local_news = _join("https://www.", own, "/news/", pa.array(rng.integers(10_000, 999_999, n).astype(str)))
    expanded = pc.if_else(pa.array(rng.random(n) < 0.5), local_news, shared)
    urls, url_text = _url_lists(rng, expanded, has_url)
    text = _join(body, _tags_text(tags), url_text)
    lang = pa.array(np.where(emoji_only, "und", langs.astype(str)), pa.string())
    return text, lang, tags, urls


def _organic_posts(rng: np.random.Generator, posts: _Posts, people: dict[str, Any], n_posts: int,
                   start: int, days: int, repost_share: float, reply_share: float,
                   link_domains: list[str], extra_parents: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                   role: str = "organic") -> np.ndarray:
    """Originals, reposts of popular posts and replies; returns the indices of the originals."""
    n_acc = len(people["idx"])
    activity = rng.lognormal(0.0, 1.4, n_acc)  # heavy-tailed: a few accounts post most
    activity /= activity.sum()
    n_rep = int(round(n_posts * repost_share))
    n_reply = int(round(n_posts * reply_share))
    n_orig = n_posts - n_rep - n_reply
    who = rng.choice(n_acc, n_orig, p=activity)
    s = _local_times(rng, n_orig, start, days, people["offset"][who])
    text, lang, tags, urls = _organic_bodies(rng, people["lang"][who], link_domains)
    client = _pick(rng, _CLIENTS, n_orig, np.array(_CLIENT_SHARES))
    orig = posts.add(role, s, people["idx"][who], text, lang, tags, urls, client=client)
    # popularity: power law, scaled by the author's audience
    pop = (rng.pareto(1.2, n_orig) + 0.05) * np.sqrt(people["followers"][who] + 10)
    par_idx, par_s, par_author = orig, s, people["idx"][who]
    if extra_parents is not None:  # e.g. the genuine outlets' posts, widely shared
        e_idx, e_s, e_author = extra_parents
        pop = np.concatenate([pop, (rng.pareto(1.2, len(e_idx)) + 2.0) * 300.0])
        par_idx = np.concatenate([orig, e_idx])
        par_s = np.concatenate([s, e_s])
        par_author = np.concatenate([par_author, e_author])
    p = pop / pop.sum()
    end = start + days * _DAY
    for kind, k, median in (("repost", n_rep, 2400.0), ("reply", n_reply, 900.0)):
        if not k:
            continue
        pj = rng.choice(len(par_idx), k, p=p)
        who_r = rng.choice(n_acc, k, p=activity)
        clash = people["idx"][who_r] == par_author[pj]
        who_r[clash] = (who_r[clash] + 1) % n_acc
        delay = rng.lognormal(np.log(median), 1.3, k).astype(np.int64) + 5
        room = np.maximum(end - par_s[pj] - 1, 1)
        t = par_s[pj] + np.where(delay < room, delay, 1 + np.mod(delay, room))
        client = _pick(rng, _CLIENTS, k, np.array(_CLIENT_SHARES))
        lang = people["lang"][who_r]
        if kind == "repost":
            posts.add(role, t, people["idx"][who_r], None, pa.nulls(k, pa.string()),
                      parent=par_idx[pj], kind="repost", client=client)
        else:
            body = _join(_texts_by_lang(rng, lang, 3, 14), _pick(rng, _ENDINGS, k))
            posts.add(role, t, people["idx"][who_r], body, pa.array(lang.astype(str), pa.string()),
                      parent=par_idx[pj], kind="reply", client=client)
    return orig


# --------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------


def _workdays(p: ScenarioParams) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """(operator working days, weekday holidays, transferred working Saturdays/Sundays) in the window."""
    days = [p.start + dt.timedelta(days=i) for i in range(p.days)]
    cal = holidays.country_holidays(p.holiday_country, years=sorted({d.year for d in days}))
    weekend_work = {d for d in getattr(cal, "weekend_workdays", set()) if p.start <= d < days[-1] + dt.timedelta(1)}
    work = [d for d in days if (d.weekday() < 5 and d not in cal) or d in weekend_work]
    off = [d for d in days if d.weekday() < 5 and d in cal and d not in weekend_work]
    return work, off, sorted(weekend_work)


def _variants(rng: np.random.Generator, messages: tuple[tuple[str, str, tuple[str, ...]], ...],
              n_variants: int, fmt: dict[str, str], extra_tag: str | None = None) -> list[dict[str, Any]]:
    """Per template, ``n_variants`` small edits: emoji, fillers, reordered hashtags, homoglyphs.

    The first variant of each template is the canonical text (what the
    Telegram channel posts). Loops over templates x variants (hundreds), not posts.
    """
    out = []
    for ti, (lang, body, tags) in enumerate(messages):
        body = body.format(**fmt)
        tags = tuple(tags) + ((extra_tag,) if extra_tag else ())
        variants = []
        for v in range(n_variants):
            b, t = body, list(tags)
            if v:
                if rng.random() < 0.35:
                    letters = [i for i, ch in enumerate(b) if ch in _HOMOGLYPHS]
                    for i in rng.choice(letters, min(len(letters), int(rng.integers(1, 4))), replace=False):
                        b = b[:i] + _HOMOGLYPHS[b[i]] + b[i + 1:]
                if rng.random() < 0.5:
                    b = f"{b} {_OP_EMOJI[rng.integers(len(_OP_EMOJI))]}"
                if rng.random() < 0.2:
                    b = f"{_OP_EMOJI[rng.integers(len(_OP_EMOJI))]} {b}"
                if rng.random() < 0.2:
                    b = f"{b} {_OP_FILLERS[rng.integers(len(_OP_FILLERS))]}"
                if rng.random() < 0.3:
                    b = b.rstrip("!.") + rng.choice(["!", "!!", ".", ""])
                rng.shuffle(t)
                if len(t) > 1 and rng.random() < 0.15:
                    t = t[:-1]
            text = b + "".join(f" #{x}" for x in t)
            variants.append({"text": text, "tags": list(t), "lang": lang, "template": ti})
        out.append(variants)
    return out


def generate(out_dir: Path, params: ScenarioParams = ScenarioParams()) -> Scenario:
    """Write the scenario's input files, watchlist.csv and truth.json into ``out_dir``."""
    p = params
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = _ts(p.start)
    end = start + p.days * _DAY
    off_s = int(round(p.operator_utc_offset * 3600))
    rngs = {k: np.random.default_rng([p.seed, i]) for i, k in enumerate(
        ("accounts", "organic", "genuine", "fan", "copypaste", "amplifier", "impersonator", "write"))}
    acc, posts = _Accounts(), _Posts()

    # -- accounts ------------------------------------------------------------
    people = _organic_accounts(rngs["accounts"], acc, p.n_organic_accounts, before=start)
    genuine_idx, genuine_posts = _genuine(rngs["genuine"], acc, posts, p, start)
    work, holidays_off, weekend_work = _workdays(p)
    cp_idx, batches = _copypaste_accounts(rngs["copypaste"], acc, p, off_s)
    amp_idx = _amplifier_accounts(rngs["amplifier"], acc, p.n_amplifier_accounts, start)

    # -- organic crowd, sharing the genuine entities' posts too -----------------
    domains = list(_SHARED_DOMAINS) + [L.news_domain for L in LANGS.values()] + [x[3] for x in _GENUINE]
    _organic_posts(rngs["organic"], posts, people, p.n_organic_posts, start, p.days, p.repost_share,
                   p.reply_share, domains, extra_parents=genuine_posts)

    # -- fan crowd -------------------------------------------------------------
    fan = _fan_crowd(rngs["fan"], posts, people, p)

    # -- a) copy-paste network, c) impersonators, b) amplifier of both ------------
    cpt = _copypaste_posts(rngs["copypaste"], posts, cp_idx, p, work, off_s)
    imp_idx, imp_posts, imp_s = _impersonators(rngs["impersonator"], acc, posts, p, start, off_s)
    amp = _amplifier(rngs["amplifier"], posts, amp_idx, p, cpt, imp_posts, imp_s, end)

    # -- write -------------------------------------------------------------------
    ids = _post_ids(posts)
    user_ids = _user_ids(acc)
    x_path = out_dir / "x_v2_search.jsonl"
    _write_x(x_path, posts, acc, ids, user_ids, retrieved=end + _RETRIEVED_AFTER_DAYS * _DAY,
             rng=rngs["write"], query=f"#{p.fan_hashtag} OR #YaşılKörpü OR lang:az")
    files, x_files, tg_files = [x_path], [x_path], []
    tg_truth = None
    if p.telegram:
        tg_path = out_dir / "telegram_export" / "result.json"
        tg_truth = _write_telegram(tg_path, cpt, ids, p, off_s)
        files.append(tg_path)
        tg_files.append(tg_path)
    tt = yt = None
    tt_files: list[Path] = []
    yt_files: list[Path] = []
    if p.tiktok or p.youtube:
        x_body, x_tags = posts.col("body"), posts.col("tags")
    if p.tiktok:
        trng = np.random.default_rng([p.seed, 100])
        tt = _tiktok(trng, p, cpt, x_body, x_tags, start)
        n_queries = (p.days - 1) // 30 + 1  # the Research API's 30-day limit per query
        search_ids = ["%016x%016x" % tuple(trng.integers(0, 2**62, 2)) for _ in range(n_queries)]
        tt_path = out_dir / "tiktok_research_videos.jsonl"
        _write_tiktok(tt_path, tt, start, search_ids)
        tt_files.append(tt_path)
    if p.youtube:
        yt = _youtube(np.random.default_rng([p.seed, 101]), p, cpt, x_body, start, end)
        yt_path = out_dir / "youtube_comment_threads.jsonl"
        _write_youtube(yt_path, yt)
        yt_files.append(yt_path)
    files += tt_files + yt_files
    watch = out_dir / "watchlist.csv"
    with open(watch, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["name", "handle", "platform"])
        for h, name, *_ in _GENUINE:
            w.writerow([name, h, "x"])

    truth = _truth(p, posts, acc, ids, user_ids, genuine_idx, fan, cpt, batches, work, holidays_off,
                   weekend_work, amp, imp_idx, imp_posts, tg_truth, tt, yt,
                   {"x": [x_path.name], "telegram": [str(f.relative_to(out_dir)) for f in tg_files],
                    "tiktok": [f.name for f in tt_files], "youtube": [f.name for f in yt_files],
                    "watchlist": watch.name})
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Scenario(files=files, truth_path=truth_path, truth=truth, watchlist_path=watch,
                    x_files=x_files, telegram_files=tg_files, tiktok_files=tt_files, youtube_files=yt_files)


def _genuine(rng: np.random.Generator, acc: _Accounts, posts: _Posts, p: ScenarioParams,
             start: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The watchlist entities: old verified accounts posting a news item a day with a link to their site.

    Returns their account indices and (post indices, times, authors) of their posts.
    """
    n = len(_GENUINE)
    idx = acc.add(
        username=[x[0] for x in _GENUINE], name=[x[1] for x in _GENUINE], description=[x[4] for x in _GENUINE],
        created=start - rng.integers(9 * 365, 15 * 365, n) * _DAY,
        followers=rng.integers(80_000, 600_000, n), following=rng.integers(50, 900, n),
        location=["Bakı", "Baku", "London", "Lille", "İstanbul"], verified=np.ones(n, bool),
        image=[f"https://pbs.twimg.com/profile_images/{1000 + i}/official_normal.jpg" for i in range(n)],
    )
    k = n * p.days
    who = np.repeat(np.arange(n), p.days)
    lang = np.array([x[2] for x in _GENUINE])[who]
    offset = np.array([x[5] for x in _GENUINE])[who]
    s = start + np.tile(np.arange(p.days), n) * _DAY + (rng.integers(8, 21, k) - offset) * 3600 \
        + rng.integers(0, 3600, k)
    url = _join("https://www.", pa.array([x[3] for x in _GENUINE]).take(pa.array(who)), "/",
                pa.array(rng.integers(1000, 99999, k).astype(str)))
    urls, url_text = _url_lists(rng, url, np.ones(k, bool))
    made = posts.add("genuine", s, idx[who], _join(_texts_by_lang(rng, lang, 8, 16), url_text),
                     pa.array(lang, pa.string()), urls=urls)
    return idx, (made, s, idx[who])


def _impersonators(rng: np.random.Generator, acc: _Accounts, posts: _Posts, p: ScenarioParams, start: int,
                   off_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Look-alikes of watchlist entities posting "news" with links to look-alike domains, in the operators' day."""
    n = len(_IMPERSONATORS)
    idx = acc.add(
        username=[x[0] for x in _IMPERSONATORS], name=[x[1] for x in _IMPERSONATORS],
        description=[_GENUINE[x[2]][4] for x in _IMPERSONATORS],
        created=start - rng.integers(15, 70, n) * _DAY - rng.integers(0, _DAY, n),
        followers=rng.integers(5, 300, n), following=rng.integers(100, 2000, n),
        location=[None] * n, verified=np.zeros(n, bool),
        image=[f"https://pbs.twimg.com/profile_images/{2000 + i}/logo_normal.jpg" for i in range(n)],
    )
    k = n * p.posts_per_impersonator
    who = np.repeat(np.arange(n), p.posts_per_impersonator)
    lang = np.array([_GENUINE[x[2]][2] for x in _IMPERSONATORS])[who]
    s = start + rng.integers(0, p.days, k) * _DAY + rng.integers(8, 22, k) * 3600 - off_s + rng.integers(0, 3600, k)
    body = _join(pa.array([_NEWS_PREFIX[x] for x in lang.tolist()]), " ", _texts_by_lang(rng, lang, 7, 14))
    own_domain = np.arange(n) % len(_FAKE_DOMAINS)  # each mostly pushes one domain
    dom = np.where(rng.random(k) < 0.75, own_domain[who], rng.integers(0, len(_FAKE_DOMAINS), k))
    url = _join("https://", pa.array(list(_FAKE_DOMAINS)).take(pa.array(dom)), "/",
                _pick(rng, ("news", "politics", "exclusive", "video"), k), "/",
                pa.array(rng.integers(10_000, 999_999, k).astype(str)))
    urls, url_text = _url_lists(rng, url, np.ones(k, bool))
    made = posts.add("impersonator", s, idx[who], _join(body, url_text), pa.array(lang, pa.string()), urls=urls)
    return idx, made, s


def _amplifier_accounts(rng: np.random.Generator, acc: _Accounts, n: int, start: int) -> np.ndarray:
    """Throwaway-looking accounts: generic handles, default pictures, few followers, no bio."""
    names = LANGS["en"].names + LANGS["tr"].names + LANGS["az"].names
    return acc.add(
        username=_amp_handles(rng, n), name=[names[i][1] for i in rng.integers(0, len(names), n)],
        description=[""] * n, created=start - rng.integers(20, 500, n) * _DAY - rng.integers(0, _DAY, n),
        followers=rng.integers(0, 40, n), following=rng.integers(100, 1200, n),
        location=[None] * n, verified=np.zeros(n, bool),
        image=["https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"] * n,
    )


def _amp_handles(rng: np.random.Generator, n: int) -> list[str]:
    """word + word + 4 digits; the digits are a bijection of the index, so unique below 9,000 accounts."""
    w1, w2 = rng.integers(0, len(_AMP_WORDS), n), rng.integers(0, len(_AMP_WORDS), n)
    shift = int(rng.integers(0, 9000))
    return [f"{_AMP_WORDS[a]}{_AMP_WORDS[b]}{1000 + (i * 7919 + shift) % 9000}"
            for i, (a, b) in enumerate(zip(w1, w2))]


def _copypaste_accounts(rng: np.random.Generator, acc: _Accounts, p: ScenarioParams,
                        off_s: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Accounts created in three batches, templated handles (name + 8 digits), tiny audiences."""
    n = p.n_copypaste_accounts
    batch_days = [p.start - dt.timedelta(days=d) for d in (143, 98, 47)]
    batch = np.sort(rng.integers(0, 3, n))
    day_in = rng.integers(0, 2, n)
    created = np.array([_ts(batch_days[b]) for b in batch]) + day_in * _DAY \
        + rng.integers(9 * 3600, 18 * 3600, n) - off_s
    full = [_OP_FULLNAMES[i] for i in rng.integers(0, len(_OP_FULLNAMES), n)]
    digits = rng.integers(10_000_000, 99_999_999, n)
    shared_imgs = [f"https://pbs.twimg.com/profile_images/77{i}000/stock{i}_normal.jpg" for i in range(5)]
    img_i = rng.integers(0, 7, n)
    images = [shared_imgs[i] if i < 5 else
              "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png" for i in img_i]
    idx = acc.add(
        username=[f"{h}{d}" for (h, _), d in zip(full, digits)], name=[nm for _, nm in full],
        description=[_OP_BIOS[i] for i in rng.integers(0, len(_OP_BIOS), n)], created=created,
        followers=rng.integers(0, 15, n), following=rng.integers(20, 400, n),
        location=["Bakı" if x else None for x in rng.random(n) < 0.5], verified=np.zeros(n, bool),
        image=images,
    )
    batches = []
    for b, day in enumerate(batch_days):
        m = batch == b
        batches.append({"first_day": day.isoformat(), "last_day": (day + dt.timedelta(days=1)).isoformat(),
                        "accounts": idx[m]})
    return idx, batches


def _fan_crowd(rng: np.random.Generator, posts: _Posts, people: dict[str, Any], p: ScenarioParams) -> dict[str, Any]:
    """Old accounts with audiences, bursting on one hashtag through a match: diverse texts over ~2 hours."""
    kick = _ts(p.fan_event_date) + p.fan_event_utc_hour * 3600
    win_end = kick + p.fan_event_minutes * 60
    eligible = np.flatnonzero((people["created"] < _ts(dt.date(2021, 1, 1))) & (people["followers"] >= 30))
    if len(eligible) < p.n_fan_accounts:
        eligible = np.argsort(people["created"], kind="stable")[: p.n_fan_accounts * 2]
    fans = np.sort(rng.choice(eligible, p.n_fan_accounts, replace=False))
    per = rng.geometric(0.45, len(fans))
    who = np.repeat(fans, per)
    n = len(who)
    moments = rng.uniform(0.1, 0.95, 4) * p.fan_event_minutes * 60  # goals: everyone posts at once
    at_moment = rng.random(n) < 0.45
    t = np.where(at_moment, moments[rng.integers(0, 4, n)] + rng.exponential(120, n),
                 rng.uniform(0, p.fan_event_minutes * 60, n))
    s = kick + np.clip(t, 0, p.fan_event_minutes * 60 - 1).astype(np.int64)
    lang = people["lang"][who]
    words = _texts_by_lang(rng, lang, 2, 6, "fan_words")
    extra = _texts_by_lang(rng, lang, 0, 6)
    body = pc.utf8_capitalize(_join(words, " ", extra, " ", _pick(rng, _FAN_EMOJI, n)))
    body = pc.utf8_trim_whitespace(body)
    second = np.where(rng.random(n) < 0.25, 1, 0)
    tag_lists = _list_of([[p.fan_hashtag, "FinalNight"] if x else [p.fan_hashtag] for x in second])
    text = _join(body, _tags_text(tag_lists))
    client = _pick(rng, _CLIENTS, n, np.array(_CLIENT_SHARES))
    orig = posts.add("fan", s, people["idx"][who], text, pa.array(lang.astype(str), pa.string()), tag_lists,
                     client=client)
    # fans repost the popular fan posts, spread over minutes
    n_rep = int(n * 0.3)
    pop = rng.pareto(1.1, n) + 0.05
    pj = rng.choice(n, n_rep, p=pop / pop.sum())
    reposter = rng.choice(fans, n_rep)
    clash = reposter == who[pj]
    reposter[clash] = fans[(np.searchsorted(fans, reposter[clash]) + 1) % len(fans)]
    delay = rng.lognormal(np.log(360), 1.0, n_rep).astype(np.int64) + 3
    room = np.maximum(win_end - s[pj] - 1, 1)
    rs = s[pj] + np.where(delay < room, delay, 1 + np.mod(delay, room))
    reps = posts.add("fan", rs, people["idx"][reposter], None, pa.nulls(n_rep, pa.string()),
                     parent=orig[pj], kind="repost", client=_pick(rng, _CLIENTS, n_rep, np.array(_CLIENT_SHARES)))
    return {"accounts": people["idx"][fans], "posts": np.concatenate([orig, reps]), "start": kick, "end": win_end}


def _copypaste_posts(rng: np.random.Generator, posts: _Posts, cp_idx: np.ndarray,
                     p: ScenarioParams, work: list[dt.date], off_s: int) -> dict[str, Any]:
    """Waves of near-identical posts in office hours, the 73-post run, the 1,000-post burst."""
    n = len(cp_idx)
    switch = p.election_date - dt.timedelta(days=7)
    fmt = {"day": str(p.election_date.day), "month_az": _MONTHS["az"][p.election_date.month - 1],
           "month_ru": _MONTHS["ru"][p.election_date.month - 1],
           "month_en": _MONTHS["en"][p.election_date.month - 1]}
    sets = {"before": _variants(rng, _SET_BEFORE, 40, fmt), "after": _variants(rng, _SET_AFTER, 40, fmt)}
    burst_vars = _variants(rng, _BURST, 40, fmt, extra_tag=p.burst_hashtag)
    h0, h1 = p.office_hours
    # the run and the burst happen on two working days before the switch
    before_days = [d for d in work if d < switch]
    run_day = before_days[len(before_days) // 3]
    burst_day = before_days[(2 * len(before_days)) // 3]
    run_account = int(rng.integers(0, n))
    run_start = _ts(run_day) - off_s + (h0 + 1) * 3600 + int(rng.integers(0, 1800))
    run_s = run_start + np.concatenate([[0], np.cumsum(rng.integers(25, 60, p.run_length - 1))])
    burst_start = _ts(burst_day) - off_s + (h0 + 2) * 3600 + int(rng.integers(0, 1800))

    s_l, who_l, text_l, tag_l, lang_l = [], [], [], [], []
    waves = []  # per wave: start, template, message set, its posts
    for day in work:  # a few waves per working day: per-day, per-wave loops (small)
        phase = "before" if day < switch else "after"
        starts = np.sort(_ts(day) - off_s + rng.integers(int((h0 + 1 / 3) * 3600), int((h1 - 0.5) * 3600),
                                                          p.waves_per_workday))
        for w0 in starts:
            ti = int(rng.integers(0, len(sets[phase])))
            k = int(rng.integers(int(0.3 * n), int(0.6 * n) + 1))
            members = rng.choice(n, k, replace=False)
            t = w0 + np.minimum(rng.exponential(90, k), 600).astype(np.int64)
            keep = ~((members == run_account) & (t > run_start - 7200) & (t < run_s[-1] + 7200))
            members, t = members[keep], t[keep]
            vi = rng.integers(0, 40, len(members))
            var = [sets[phase][ti][v] for v in vi]
            waves.append({"start": int(w0), "template": ti, "set": phase, "n": len(members),
                          "canonical": sets[phase][ti][0]["text"]})
            s_l.append(t)
            who_l.append(members)
            text_l += [v["text"] for v in var]
            tag_l += [v["tags"] for v in var]
            lang_l += [v["lang"] for v in var]
    s = np.concatenate(s_l)
    who = np.concatenate(who_l)
    wave_posts = posts.add("copypaste", s, cp_idx[who], pa.array(text_l, pa.string()),
                           pa.array(lang_l, pa.string()), _list_of(tag_l))
    bounds = np.concatenate([[0], np.cumsum([w["n"] for w in waves])])
    for w, a, b in zip(waves, bounds[:-1], bounds[1:]):
        w["posts"], w["times"] = wave_posts[a:b], s[a:b]
    # the run: one account, the same text, 73 times in a row
    run_posts = posts.add("run", run_s, np.full(p.run_length, cp_idx[run_account]),
                          pa.array([_RUN_TEXT] * p.run_length), pa.array(["az"] * p.run_length),
                          _list_of([["YaşılKörpü"]] * p.run_length))
    # the burst: burst_posts on one hashtag inside burst_minutes
    b_who = rng.permutation(np.arange(p.burst_posts) % n)
    b_s = burst_start + np.sort(rng.integers(0, p.burst_minutes * 60, p.burst_posts))
    bt, bv = rng.integers(0, len(burst_vars), p.burst_posts), rng.integers(0, 40, p.burst_posts)
    bvar = [burst_vars[a][b] for a, b in zip(bt, bv)]
    burst_posts = posts.add("burst", b_s, cp_idx[b_who], pa.array([v["text"] for v in bvar], pa.string()),
                            pa.array([v["lang"] for v in bvar]), _list_of([v["tags"] for v in bvar]))
    return {
        "waves": waves, "switch": switch,
        "run": {"account": cp_idx[run_account], "posts": run_posts, "start": int(run_s[0]), "end": int(run_s[-1])},
        "burst": {"posts": burst_posts, "start": burst_start, "end": burst_start + p.burst_minutes * 60,
                  "canonical": [v[0]["text"] for v in burst_vars]},
        "hashtags_before": sorted({t for _, _, tags in _SET_BEFORE for t in tags}),
        "hashtags_after": sorted({t for _, _, tags in _SET_AFTER for t in tags}),
    }


def _amplifier(rng: np.random.Generator, posts: _Posts, amp_idx: np.ndarray, p: ScenarioParams,
               cpt: dict[str, Any], imp_posts: np.ndarray, imp_s: np.ndarray, end: int) -> dict[str, Any]:
    """Each target post reposted by most of the network, all within a few seconds."""
    n = len(amp_idx)
    n_cp = int(round(p.n_amplified_posts * 0.7))
    waves = cpt["waves"]
    wi = np.sort(rng.choice(len(waves), min(n_cp, len(waves)), replace=False))
    # the wave's earliest post, the one the others appear to copy
    targets = [int(waves[i]["posts"][np.argmin(waves[i]["times"])]) for i in wi]
    t_s = [int(waves[i]["times"].min()) for i in wi]
    ii = np.sort(rng.choice(len(imp_posts), p.n_amplified_posts - len(targets), replace=False))
    targets += imp_posts[ii].tolist()
    t_s += imp_s[ii].tolist()
    s_l, who_l, par_l = [], [], []
    for tgt, ts in zip(targets, t_s):  # per target (tens)
        k = int(rng.integers(int(0.6 * n), n + 1))
        members = rng.choice(n, k, replace=False)
        first = ts + int(rng.integers(20, 300))
        offs = rng.integers(0, p.amplifier_spread_seconds + 1, k)
        offs[0] = 0
        s_l.append(np.minimum(first + offs, end - 1))
        who_l.append(members)
        par_l.append(np.full(k, tgt))
    s = np.concatenate(s_l)
    reps = posts.add("amplifier", s, amp_idx[np.concatenate(who_l)], None, pa.nulls(len(s), pa.string()),
                     parent=np.concatenate(par_l), kind="repost",
                     client=pa.array(["Twitter Web App"] * len(s)))
    return {"targets": np.array(targets), "posts": reps}


# --------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------


def _post_ids(posts: _Posts) -> np.ndarray:
    """Snowflake ids from the post time and the post's index (unique while below 2**22 posts per ms)."""
    s = posts.col("s")
    idx = np.arange(len(s), dtype=np.int64)
    ids = ((s * 1000 - _SNOWFLAKE_EPOCH_MS) << 22) | (idx & 0x3FFFFF)
    if len(np.unique(ids)) != len(ids):  # only past 4M posts in one millisecond
        raise ValueError("post id collision; generate fewer posts per second")
    return ids


def _user_ids(acc: _Accounts) -> np.ndarray:
    """Snowflake ids for accounts created after 2010-11 (X's practice); small sequential ids before."""
    created = acc.column("created")
    idx = np.arange(len(created), dtype=np.int64)
    snow = ((created * 1000 - _SNOWFLAKE_EPOCH_MS) << 22) | (idx & 0x3FFFFF)
    return np.where(created * 1000 > _SNOWFLAKE_EPOCH_MS + 86_400_000, snow, 14_000_000 + idx * 37)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

# One tweet object per row of _want, as JSON text. Built by concatenation (the
# fixed fields) and to_json (escaped strings, entities): absent fields are left
# out, as the API does. Reposts carry "RT @user: " and the parent's text, cut at
# 140 characters like the API, and only the entities that survive the cut.
_TWEET_SQL = """
WITH base AS (
    SELECT p.*, par.body AS par_body, par.tags AS par_tags, par.urls AS par_urls, par.lang AS par_lang,
           pa.username AS par_user, pa.id AS par_author_id, par.id AS par_id
    FROM _want w JOIN _p p ON p.idx = w.idx
    LEFT JOIN _p par ON par.idx = p.parent
    LEFT JOIN _a pa ON pa.idx = par.author
), texts AS (
    SELECT *,
        CASE kind WHEN 1 THEN 'RT @' || par_user || ': ' ||
                      CASE WHEN length(par_body) > 140 THEN left(par_body, 139) || '…' ELSE par_body END
                  WHEN 2 THEN '@' || par_user || ' ' || body
                  ELSE body END AS text
    FROM base
), ents AS (
    SELECT *,
        CASE WHEN kind = 1 THEN list_filter(par_tags, lambda h: contains(text, '#' || h)) ELSE tags END AS h_list,
        CASE WHEN kind = 1 THEN list_filter(par_urls, lambda u: contains(text, u.url)) ELSE urls END AS u_list
    FROM texts
)
SELECT idx,
    '{"edit_history_tweet_ids":["' || id || '"],"id":"' || id || '","text":' || to_json(text)
    || ',"author_id":"' || author_id || '","created_at":"'
    || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z')
    || '","conversation_id":"' || CASE WHEN kind = 2 THEN par_id ELSE id END
    || '","lang":"' || CASE WHEN kind = 1 THEN coalesce(par_lang, 'und') ELSE coalesce(lang, 'und') END || '"'
    || CASE kind WHEN 1 THEN ',"referenced_tweets":[{"type":"retweeted","id":"' || par_id || '"}]'
                 WHEN 2 THEN ',"referenced_tweets":[{"type":"replied_to","id":"' || par_id
                             || '"}],"in_reply_to_user_id":"' || par_author_id || '"'
                 ELSE '' END
    || CASE WHEN len(h_list) > 0 OR len(u_list) > 0 OR kind > 0 THEN ',"entities":' || json_merge_patch('{}', to_json({
            'hashtags': CASE WHEN len(h_list) > 0 THEN list_transform(h_list, lambda h: {
                'start': strpos(text, '#' || h) - 1, 'end': strpos(text, '#' || h) + length(h), 'tag': h}) END,
            'mentions': CASE WHEN kind > 0 THEN [{'start': strpos(text, '@' || par_user) - 1,
                'end': strpos(text, '@' || par_user) + length(par_user), 'username': par_user,
                'id': par_author_id}] END,
            'urls': CASE WHEN len(u_list) > 0 THEN list_transform(u_list, lambda u: {
                'start': strpos(text, u.url) - 1, 'end': strpos(text, u.url) - 1 + length(u.url),
                'url': u.url, 'expanded_url': u.expanded_url,
                'display_url': left(regexp_replace(u.expanded_url, '^https?://(www\\.)?', ''), 26)}) END
        }))::VARCHAR ELSE '' END
    || ',"public_metrics":{"retweet_count":' || retweets || ',"reply_count":' || replies
    || ',"like_count":' || likes || ',"quote_count":0,"bookmark_count":' || bookmarks
    || ',"impression_count":' || impressions || '},"possibly_sensitive":false,"source":' || to_json(client)
    || '}' AS j
FROM ents
"""

_USER_SQL = """
SELECT idx, json_merge_patch('{}', to_json({
    'id': id, 'username': username, 'name': name,
    'created_at': strftime(to_timestamp(created) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z'),
    'description': coalesce(description, ''), 'location': location,
    'profile_image_url': image, 'protected': false, 'verified': verified,
    'public_metrics': {'followers_count': followers, 'following_count': following,
                       'tweet_count': tweet_count, 'listed_count': listed_count}
}))::VARCHAR AS j
FROM _a
"""

_PAGE = 100  # tweets per twarc2 page, the API's maximum for search
_PAGES_PER_CHUNK = 500  # pages built at a time: bounded memory, linear time


def _metrics(rng: np.random.Generator, posts: _Posts, followers: np.ndarray) -> dict[str, np.ndarray]:
    """Public metrics consistent with the data: retweet and reply counts are the generated ones."""
    kind, parent, author = posts.col("kind"), posts.col("parent"), posts.col("author")
    n = len(kind)
    retweets = np.bincount(parent[kind == 1], minlength=n)[:n]
    replies = np.bincount(parent[kind == 2], minlength=n)[:n]
    reach = np.sqrt(followers[author] + 1.0)
    likes = np.where(kind == 1, 0, (retweets * rng.uniform(1.5, 5, n) + rng.poisson(reach / 6))).astype(np.int64)
    impressions = np.where(kind == 1, 0, (likes + 1) * rng.integers(20, 90, n) + (reach * 3).astype(np.int64))
    return {"retweets": np.where(kind == 1, 0, retweets), "replies": np.where(kind == 1, 0, replies),
            "likes": likes, "bookmarks": (likes * rng.uniform(0, 0.05, n)).astype(np.int64),
            "impressions": impressions.astype(np.int64)}


def _by_row(con: Any, sql: str, rows: int) -> pa.Array:
    """Run ``sql`` (columns idx, j) and return j laid out by idx (rows not returned are null)."""
    t = con.sql(sql).to_arrow_table()
    pos = np.full(rows, -1, np.int64)
    pos[t["idx"].to_numpy()] = np.arange(t.num_rows)
    return t["j"].combine_chunks(), pos


def _grouped_join(values: pa.Array, group: np.ndarray, n_groups: int, sep: str = ",") -> pa.Array:
    """Join ``values`` (sorted by ``group``) with ``sep`` per group 0..n_groups-1; '' for empty groups."""
    counts = np.bincount(group, minlength=n_groups)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, values), sep)


def _write_x(path: Path, posts: _Posts, acc: _Accounts, ids: np.ndarray, user_ids: np.ndarray,
             retrieved: int, rng: np.random.Generator, query: str) -> None:
    """twarc2 pages of 100 tweets (chronological) with includes.users, includes.tweets and meta.

    DuckDB writes each tweet's and user's JSON; the pages are assembled with
    numpy and Arrow (grouped joins over sorted arrays) and written straight
    from the Arrow buffers.
    """
    followers = acc.column("followers")
    author = posts.col("author")
    parent = posts.col("parent")
    m = _metrics(rng, posts, followers)
    n = posts.n
    s = posts.col("s")
    order = np.lexsort((np.arange(n), s))  # chronological
    p_tab = pa.table({
        "idx": np.arange(n, dtype=np.int64), "id": pa.array(ids.astype(str)), "s": s,
        "author": author, "parent": parent, "kind": posts.col("kind"),
        "body": posts.col("body"), "lang": posts.col("lang"), "tags": posts.col("tags"),
        "urls": posts.col("urls"), "client": posts.col("client"),
        "author_id": pa.array(user_ids[author].astype(str)), **m,
    })
    n_acc = len(user_ids)
    tweet_count = np.bincount(author, minlength=n_acc) + rng.lognormal(np.log(800), 1.3, n_acc).astype(np.int64)
    a_tab = pa.table({
        "idx": np.arange(n_acc, dtype=np.int64), "id": pa.array(user_ids.astype(str)),
        "username": acc.column("username"), "name": acc.column("name"),
        "description": acc.column("description"), "created": acc.column("created"),
        "location": acc.column("location"), "image": acc.column("image"),
        "verified": acc.column("verified"), "followers": followers, "following": acc.column("following"),
        "tweet_count": tweet_count, "listed_count": (np.sqrt(followers) / 4).astype(np.int64),
    })
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_p_in", p_tab)
    con.register("_a", a_tab)
    con.execute("CREATE TEMP TABLE _p AS SELECT * FROM _p_in")  # native storage: cheap repeated joins
    users, upos = _by_row(con, _USER_SQL, n_acc)
    n_pages = (n + _PAGE - 1) // _PAGE
    tokens = np.random.default_rng([int(s[0]) if n else 0, n]).integers(0, 2**62, n_pages)
    twarc = json.dumps({"url": "https://api.twitter.com/2/tweets/search/all?query=" + query.replace(" ", "%20"),
                        "version": "2.14.0", "retrieved_at": _iso(retrieved).replace("Z", "+00:00")},
                       ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for first in range(0, n_pages, _PAGES_PER_CHUNK):
            rows = order[first * _PAGE:(first + _PAGES_PER_CHUNK) * _PAGE]  # this chunk, in page order
            k = len(rows)
            page = np.arange(k) // _PAGE  # page within the chunk
            pages = int(page[-1]) + 1
            par = parent[rows]
            has = par >= 0
            # the tweets of the chunk and those they repost or reply to
            want = np.unique(np.concatenate([rows, par[has]]))
            con.register("_want", pa.table({"idx": want}))
            tweets, tpos = _by_row(con, _TWEET_SQL, n)
            data = _grouped_join(tweets.take(pa.array(tpos[rows])), page, pages)
            # includes.tweets: distinct parents per page
            key = np.unique(page[has] * n + par[has])
            ctx = _grouped_join(tweets.take(pa.array(tpos[key % n])), key // n, pages)
            ctx = pc.if_else(pc.equal(ctx, ""), "", _join(',"tweets":[', ctx, "]"))
            # includes.users: distinct authors of the page's tweets and of their parents
            who = np.concatenate([page * n_acc + author[rows], page[has] * n_acc + author[par[has]]])
            key = np.unique(who)
            people = _grouped_join(users.take(pa.array(upos[key % n_acc])), key // n_acc, pages)
            page_ids = ids[rows]
            starts = np.arange(0, k, _PAGE)
            ends = np.minimum(starts + _PAGE, k) - 1
            line = _join(
                '{"data":[', data, '],"includes":{"users":[', people, "]", ctx, '},"meta":{"newest_id":"',
                pa.array(page_ids[ends].astype(str)), '","oldest_id":"', pa.array(page_ids[starts].astype(str)),
                '","result_count":', pa.array((ends - starts + 1).astype(str)), ',"next_token":"',
                pa.array([f"{t:016x}" for t in tokens[first:first + pages]]), '"},"__twarc":', twarc, "}\n",
            )
            fh.write(_string_bytes(line))
            con.unregister("_want")
    con.close()


def _string_bytes(arr: pa.Array) -> memoryview:
    """The concatenated values of a string array, from its data buffer (no per-value copies)."""
    width = 8 if pa.types.is_large_string(arr.type) else 4
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if width == 8 else np.int32,
                            count=len(arr) + 1, offset=arr.offset * width)
    return memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _write_telegram(path: Path, cpt: dict[str, Any], ids: np.ndarray, p: ScenarioParams, off_s: int) -> dict[str, Any]:
    """A Telegram Desktop export of the operation's channel: each wave's text minutes before the X wave.

    ``date`` is the exporting machine's local time (the operators' zone, as
    Telegram Desktop writes it); ``date_unixtime`` is the UTC instant.
    """
    rng = np.random.default_rng([p.seed, 99])
    channel_id = 1_900_000_000 + int(rng.integers(0, 99_999_999))
    name = "Yaşıl Körpü Xəbərləri"
    msgs: list[tuple[int, str, list[int]]] = []
    for w in cpt["waves"]:  # per wave (hundreds)
        lead = int(rng.integers(120, 900))
        msgs.append((w["start"] - lead, w["canonical"], ids[w["posts"]].astype(str).tolist()))
    b = cpt["burst"]
    msgs.append((b["start"] - int(rng.integers(600, 1800)),
                 f"Bu gün saat {_local_hm(b['start'], off_s)}-da hamı #{p.burst_hashtag} ilə paylaşım etsin!",
                 ids[b["posts"]].astype(str).tolist()))
    msgs.sort(key=lambda m: m[0])
    messages, truth_msgs = [], []
    for i, (t, text, followed) in enumerate(msgs, start=1):
        local = dt.datetime.fromtimestamp(t + off_s, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        ents = _tg_entities(text)
        messages.append({
            "id": i, "type": "message", "date": local, "date_unixtime": str(t), "from": name,
            "from_id": f"channel{channel_id}",
            "text": ents[0]["text"] if len(ents) == 1 and ents[0]["type"] == "plain" else
            [e["text"] if e["type"] == "plain" else e for e in ents],
            "text_entities": ents,
        })
        truth_msgs.append({"message_id": i, "post_id": f"{channel_id}/{i}", "date_utc": _iso(t), "text": text,
                           "x_posts_after": followed})
    path.parent.mkdir(parents=True, exist_ok=True)
    export = {"name": name, "type": "public_channel", "id": channel_id, "messages": messages}
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {"channel_id": channel_id, "account_id": str(channel_id), "from_id": f"channel{channel_id}",
            "name": name, "messages": truth_msgs}


def _tg_entities(text: str) -> list[dict[str, str]]:
    """Telegram Desktop's text_entities: plain runs and hashtags, which concatenate to ``text``."""
    pieces = re.split(r"(#\w+)", text)
    return [{"type": "hashtag" if i % 2 else "plain", "text": x} for i, x in enumerate(pieces) if x]


def _local_hm(s: int, off_s: int) -> str:
    return dt.datetime.fromtimestamp(s + off_s, dt.timezone.utc).strftime("%H:%M")


# --------------------------------------------------------------------------
# TikTok and YouTube shares
# --------------------------------------------------------------------------

_TT_TAGS = ("fyp", "foryou", "viral", "trend")
_TT_REGIONS = {"en": ("GB", "US", "CA"), "ru": ("RU", "KZ"), "fa": ("DE", "CA"), "az": ("AZ",),
               "fr": ("FR", "BE", "CA"), "tr": ("TR", "DE"), "ar": ("EG", "JO", "AE")}
_TT_TREND_TAG = "AuroraDance"  # the viral sound's dance trend
_YT_CHANNELS = (("Körpü TV", "az"), ("Caspian Talk", "en"), ("Город и люди", "ru"))
_URLSAFE = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def _random_ids(rng: np.random.Generator, n: int, width: int, prefix: str = "", suffix: str = "") -> list[str]:
    """n distinct opaque ids of ``width`` URL-safe characters (YouTube video, channel and comment ids)."""
    codes = np.ascontiguousarray(_URLSAFE[rng.integers(0, 64, (n, width))]).view(f"<U{width}").ravel()
    if len(np.unique(codes)) != n:  # 64**width: never in practice; a clear error rather than a silent merge
        raise ValueError("random id collision; use another seed")
    return [prefix + c + suffix for c in codes.tolist()]


def _handles(rng: np.random.Generator, langs: np.ndarray, seps: tuple[str, ...], capital_share: float) -> list[str]:
    """Organic handles from the language's names, some capitalised, unique ignoring case (per account: few)."""
    out, seen = [], set()
    for i, code in enumerate(langs.tolist()):
        L = LANGS[code]
        first, _ = L.names[int(rng.integers(len(L.names)))]
        last, _ = L.surnames[int(rng.integers(len(L.surnames)))]
        sep = seps[int(rng.integers(len(seps)))]
        tail = str(int(rng.integers(1, 10_000))) if rng.random() < 0.6 else ""
        h = f"{first}{sep}{last}{tail}"
        if rng.random() < capital_share:
            h = f"{first.capitalize()}{sep}{last.capitalize()}{tail}"
        if h.lower() in seen:
            h = f"{h}_{_base36(i)}"
        seen.add(h.lower())
        out.append(h)
    return out


def _crew_handles(rng: np.random.Generator, n: int, sep: str, width: int) -> list[str]:
    """The crew's templated handles: first name + sep + digits; the digits are a bijection of the index."""
    span = 9 * 10 ** (width - 1)
    shift = int(rng.integers(0, span))
    first = [_OP_FULLNAMES[i][0] for i in rng.integers(0, len(_OP_FULLNAMES), n)]
    return [f"{h}{sep}{10 ** (width - 1) + (i * 7919 + shift) % span}" for i, h in enumerate(first)]


def _people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(language, UTC offset) of n organic users, with the X crowd's language shares and zones."""
    codes = list(LANGS)
    shares = np.array([LANGS[c].share for c in codes])
    lang = np.array(codes)[rng.choice(len(codes), n, p=shares / shares.sum())]
    offset = np.zeros(n)
    for code in codes:  # per language
        m = lang == code
        offs, sh = zip(*LANGS[code].utc_offsets)
        offset[m] = rng.choice(offs, int(m.sum()), p=np.array(sh) / sum(sh))
    return lang, offset


def _wave_copies(rng: np.random.Generator, cpt: dict[str, Any], n_crew: int, waves: list[int],
                 share: tuple[float, float], lag: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per chosen X wave, a share of a crew posts copies of the wave's X texts within minutes.

    Returns (UTC seconds, crew member, X post index whose text is copied, wave number). A copy
    comes ``lag`` seconds plus an exponential delay (mean 2 min, capped at 9 min) after the
    wave's start: under 13 minutes, inside the 15-minute same-text window and office hours.
    """
    s_l, who_l, src_l, wave_l = [], [], [], []
    lo, hi = int(np.ceil(share[0] * n_crew)), max(int(np.floor(share[1] * n_crew)), int(np.ceil(share[0] * n_crew)))
    for wi in waves:  # per wave (hundreds)
        w = cpt["waves"][wi]
        if not len(w["posts"]):
            continue
        k = int(rng.integers(lo, hi + 1))
        who_l.append(rng.choice(n_crew, k, replace=False))
        s_l.append(w["start"] + rng.integers(lag[0], lag[1], k) + np.minimum(rng.exponential(120, k), 540).astype(np.int64))
        src_l.append(rng.choice(w["posts"], k))
        wave_l.append(np.full(k, wi))
    if not s_l:
        return (np.zeros(0, np.int64),) * 3 + (np.zeros(0, np.int64),)
    return np.concatenate(s_l), np.concatenate(who_l), np.concatenate(src_l), np.concatenate(wave_l)


def _tiktok(rng: np.random.Generator, p: ScenarioParams, cpt: dict[str, Any], body: pa.Array, tags: pa.Array,
            start: int) -> dict[str, Any]:
    """The TikTok share: the crew's videos on each X wave, the organic crowd, and the viral sound."""
    days = p.days
    sound_pool = np.unique(rng.integers(7_000_000_000_000_000_000, 7_400_000_000_000_000_000, 420))[:400]
    op_sounds = rng.integers(7_400_000_000_000_000_000, 7_450_000_000_000_000_000, 2)  # one per message set
    viral_sound = int(rng.integers(7_450_000_000_000_000_000, 7_500_000_000_000_000_000))
    effects = rng.integers(1_000_000, 9_999_999, 30).astype(str)

    # the crew: videos copying the X wave texts, minutes after the wave starts
    crew = _crew_handles(rng, p.n_tiktok_operation_accounts, ".", 6)
    c_s, c_who, c_src, c_wave = _wave_copies(rng, cpt, len(crew), list(range(len(cpt["waves"]))),
                                             p.tiktok_wave_share, (30, 240))
    k = len(c_s)
    after = np.array([cpt["waves"][w]["set"] == "after" for w in c_wave.tolist()], bool)
    own = rng.random(k) < p.tiktok_operation_sound_share
    c_sound = np.where(own, op_sounds[after.astype(int)], rng.choice(sound_pool, k, p=_zipf_p(len(sound_pool), 1.0)))
    c_views = rng.lognormal(np.log(300), 0.8, k).astype(np.int64)

    # the organic crowd: every account posts at least once, activity heavy-tailed
    n_acc = p.n_tiktok_organic_accounts
    lang, offset = _people(rng, n_acc)
    handles = _handles(rng, lang, ("", ".", "_"), 0.3)
    activity = rng.lognormal(0.0, 1.2, n_acc)
    who = np.concatenate([np.arange(n_acc), rng.choice(n_acc, p.n_tiktok_organic_videos - n_acc,
                                                       p=activity / activity.sum())])
    n = len(who)
    s = _local_times(rng, n, start, days, offset[who])
    o_lang = lang[who]
    o_tags = _by_lang(o_lang, lambda code, m: _tag_lists(rng, LANGS[code].hashtags + _TT_TAGS, m, 3, 0.6))
    o_body = _join(_texts_by_lang(rng, o_lang, 2, 12), _pick(rng, _ENDINGS, n))
    o_body = pc.if_else(pa.array(rng.random(n) < 0.02), "", o_body)  # some videos have no description
    o_sound = rng.choice(sound_pool, n, p=_zipf_p(len(sound_pool), 1.0))
    # the viral sound: many organic users, one video each, spread over days from a quarter into the window
    viral = np.sort(rng.choice(n_acc, p.n_tiktok_viral_sound_users, replace=False))
    m = len(viral)
    day0 = days // 4
    v_day = day0 + np.minimum(rng.exponential(4.0, m).astype(np.int64), days - day0 - 1)
    hour = rng.choice(24, m, p=_DIURNAL / _DIURNAL.sum())
    v_s = start + v_day * _DAY + hour * 3600 + rng.integers(0, 3600, m) - (offset[viral] * 3600).astype(np.int64)
    v_s = np.where(v_s < start + day0 * _DAY, v_s + _DAY, v_s)  # zones east of UTC: the trend's first local day
    v_s = np.minimum(v_s, start + days * _DAY - 1)
    v_tags = _list_of([[_TT_TREND_TAG, "fyp"] if x < 0.4 else [_TT_TREND_TAG] if x < 0.7 else []
                       for x in rng.random(m)])
    v_body = _join(_texts_by_lang(rng, lang[viral], 1, 8), _pick(rng, _ENDINGS, m))

    # all videos: crew, organic, viral (one table; the writer sorts by time)
    o_views = rng.lognormal(np.log(2000), 1.8, n + m).astype(np.int64)
    views = np.concatenate([c_views, o_views])
    total = len(views)
    likes = (views * rng.uniform(0.01, 0.1, total)).astype(np.int64)
    eff = np.where(np.concatenate([np.zeros(k, bool), rng.random(n + m) < 0.2]), rng.integers(0, 30, total), -1)
    all_tags = pa.concat_arrays([tags.take(pa.array(c_src)), o_tags.cast(tags.type), v_tags.cast(tags.type)])
    desc = pa.concat_arrays([body.take(pa.array(c_src)), _join(o_body, _tags_text(o_tags)),
                             _join(v_body, _tags_text(v_tags))])
    region = np.concatenate([np.full(k, "AZ"), np.array([rng.choice(_TT_REGIONS[x]) for x in lang[who].tolist()]
                                                        + [rng.choice(_TT_REGIONS[x]) for x in lang[viral].tolist()])])
    table = pa.table({
        "s": np.concatenate([c_s, s, v_s]).astype(np.int64),
        "username": pa.array(list(np.array(crew, dtype=object)[c_who]) + list(np.array(handles, dtype=object)[who])
                             + list(np.array(handles, dtype=object)[viral]), pa.string()),
        "description": desc, "hashtags": all_tags,
        "music_id": np.concatenate([c_sound, o_sound, np.full(m, viral_sound)]).astype(np.int64),
        "effect": pa.array(np.where(eff >= 0, effects[np.maximum(eff, 0)], None), pa.string()),
        "region": pa.array(region, pa.string()),
        "views": views, "likes": likes, "shares": (likes * rng.uniform(0, 0.1, total)).astype(np.int64),
        "comments": (likes * rng.uniform(0, 0.06, total)).astype(np.int64),
        "role": np.concatenate([np.full(k, 2), np.zeros(n, np.int64), np.ones(m, np.int64)]).astype(np.int8),
    })
    order = np.lexsort((np.arange(total), table["s"].to_numpy()))
    table = table.take(pa.array(order))
    # TikTok-style ids: creation second in the high 32 bits, a per-video number below
    ids = (table["s"].to_numpy() << 32) | ((np.arange(total, dtype=np.int64) * 2_654_435_761) & 0xFFFFFFFF)
    return {"table": table.append_column("id", pa.array(ids)), "op_sounds": op_sounds.tolist(),
            "viral_sound": viral_sound, "crew": crew, "handles": handles}


_TT_VIDEO_SQL = """
SELECT s, id, '{"id":' || id || ',"username":' || to_json(username) || ',"create_time":' || s
    || ',"region_code":"' || region || '","video_description":' || to_json(description)
    || ',"hashtag_names":' || to_json(list_transform(hashtags, lambda h: lower(h)))
    || ',"video_mention_list":[],"music_id":' || music_id
    || ',"effect_ids":' || CASE WHEN effect IS NULL THEN '[]' ELSE '["' || effect || '"]' END
    || ',"like_count":' || likes || ',"comment_count":' || comments || ',"share_count":' || shares
    || ',"view_count":' || views || '}' AS j,
    (s - ?) // (30 * 86400) AS query
FROM _tt
"""


def _write_tiktok(path: Path, tt: dict[str, Any], start: int, search_ids: list[str]) -> None:
    """Research API /v2/research/video/query/ responses, one page of 100 videos per line.

    The API takes at most 30 days per query, so a window of 42 days is two
    queries (two search ids), each paged with ``cursor`` and ``has_more``.
    """
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_tt", tt["table"])
    con.execute(f"CREATE TEMP TABLE _v AS {_TT_VIDEO_SQL}", [start])
    lines = con.sql("""
        WITH o AS (SELECT *, row_number() OVER (PARTITION BY query ORDER BY s, id) - 1 AS r FROM _v),
        pg AS (SELECT query, r // 100 AS page, string_agg(j, ',' ORDER BY r) AS videos, max(r) + 1 AS upto
               FROM o GROUP BY 1, 2),
        last AS (SELECT query, max(page) AS last_page FROM pg GROUP BY 1)
        SELECT '{"data":{"videos":[' || videos || '],"cursor":' || upto || ',"has_more":'
               || CASE WHEN page < last_page THEN 'true' ELSE 'false' END || ',"search_id":"'
               || list_extract(?, query + 1) || '"},"error":{"code":"ok","message":"","log_id":"'
               || list_extract(?, query + 1) || lpad(page::VARCHAR, 4, '0') || '"}}' || chr(10) AS line
        FROM pg JOIN last USING (query) ORDER BY query, page""",
        params=[search_ids, [x[:16].upper() for x in search_ids]]).to_arrow_table()
    con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(_string_bytes(lines["line"].combine_chunks()))


def _youtube(rng: np.random.Generator, p: ScenarioParams, cpt: dict[str, Any], body: pa.Array,
             start: int, end: int) -> dict[str, Any]:
    """The YouTube share: a few videos; the crew comments chosen X waves' texts under them within minutes."""
    nv = p.n_youtube_videos
    video_ids = _random_ids(rng, nv, 11)
    owner = np.arange(nv) % len(_YT_CHANNELS)
    owner_ids = _random_ids(rng, len(_YT_CHANNELS), 22, "UC")
    published = start + rng.integers(0, int(p.days * 0.6) * _DAY, nv)
    published[0] = start + int(rng.integers(3600, _DAY))  # a video from the first day: the crew has one early
    published = np.sort(published)

    # the crew: under the latest of the videos already out, copies of a share of the X waves
    n_crew = p.n_youtube_operation_accounts
    crew_handles = _crew_handles(rng, n_crew, "", 8)
    crew_ids = _random_ids(rng, n_crew, 22, "UC")
    eligible = [i for i, w in enumerate(cpt["waves"]) if w["start"] > published[0] + 3600]
    chosen = [i for i, x in zip(eligible, rng.random(len(eligible))) if x < p.youtube_wave_share]
    c_s, c_who, c_src, c_wave = _wave_copies(rng, cpt, n_crew, chosen, (0.4, 0.8), (60, 240))
    wave_start = np.array([cpt["waves"][w]["start"] for w in c_wave.tolist()], np.int64)
    out = np.searchsorted(published, wave_start - 3600, side="right")  # videos out an hour before the wave
    per_wave = {w: int(rng.integers(max(0, o - 2), o)) for w, o in sorted(set(zip(c_wave.tolist(), out.tolist())))}
    c_video = np.array([per_wave[w] for w in c_wave.tolist()], np.int64)
    k = len(c_s)

    # organic commenters: every one comments at least once; comments decay after the video is published
    n_acc = p.n_youtube_organic_accounts
    lang, _ = _people(rng, n_acc)
    handles = _handles(rng, lang, ("", ".", "-", "_"), 0.4)
    acc_ids = _random_ids(rng, n_acc, 22, "UC")
    n_com = p.n_youtube_organic_comments
    n_reply = int(round(0.15 * n_com))
    n_top = n_com - n_reply
    activity = rng.lognormal(0.0, 1.0, n_acc)
    who = np.concatenate([rng.permutation(n_acc), rng.choice(n_acc, n_com - n_acc, p=activity / activity.sum())])
    pop = rng.pareto(1.0, nv) + 0.2
    o_video = rng.choice(nv, n_top, p=pop / pop.sum())
    delay = rng.lognormal(np.log(6 * 3600), 1.5, n_top).astype(np.int64) + 30
    room = np.maximum(end - published[o_video] - 1, 1)
    o_s = published[o_video] + np.where(delay < room, delay, 1 + np.mod(delay, room))
    # replies: to organic threads, at most two per thread, minutes to hours later
    parent = rng.choice(np.repeat(np.arange(n_top), 2), n_reply, replace=False)
    r_delay = rng.lognormal(np.log(3600), 1.2, n_reply).astype(np.int64) + 20
    r_room = np.maximum(end - o_s[parent] - 1, 1)
    r_s = o_s[parent] + np.where(r_delay < r_room, r_delay, 1 + np.mod(r_delay, r_room))
    o_lang = lang[who]
    text = _join(_texts_by_lang(rng, o_lang, 2, 16), _pick(rng, _ENDINGS, n_com))
    text = pc.if_else(pa.array(rng.random(n_com) < 0.01), _pick(rng, _EMOJI_ONLY, n_com), text)

    # all comments: crew (top level), organic top level, organic replies
    top_ids = _random_ids(rng, k + n_top, 19, "Ug", "4AaABAg")
    reply_ids = [f"{top_ids[k + q]}.{x}" for q, x in zip(parent.tolist(), _random_ids(rng, n_reply, 22))]
    vid_all = np.concatenate([c_video, o_video, o_video[parent]])
    author_ids = np.array(crew_ids + acc_ids, dtype=object)[np.concatenate([c_who, n_crew + who])]
    author_h = np.array(crew_handles + handles, dtype=object)[np.concatenate([c_who, n_crew + who])]
    total = k + n_com
    likes = np.where(np.arange(total) < k, rng.integers(0, 3, total), rng.geometric(0.25, total) - 1)
    table = pa.table({
        "cid": pa.array(top_ids + reply_ids, pa.string()),
        "thread": pa.array(top_ids + [top_ids[k + q] for q in parent.tolist()], pa.string()),
        "is_reply": np.arange(total) >= k + n_top,
        "vid": pa.array(np.array(video_ids, dtype=object)[vid_all], pa.string()),
        "vorder": vid_all,
        "vchan": pa.array(np.array(owner_ids, dtype=object)[owner[vid_all]], pa.string()),
        "chan": pa.array(author_ids, pa.string()), "handle": pa.array(author_h, pa.string()),
        "text": pa.concat_arrays([body.take(pa.array(c_src)), text.cast(body.type)]),
        "s": np.concatenate([c_s, o_s, r_s]).astype(np.int64), "likes": likes.astype(np.int64),
        "img": pa.array(_random_ids(rng, total, 24), pa.string()),
        "role": np.concatenate([np.full(k, 2), np.zeros(n_com, np.int64)]).astype(np.int8),
    })
    return {"table": table, "video_ids": video_ids, "owner_ids": owner_ids, "owner": owner, "published": published,
            "crew_ids": crew_ids, "crew_handles": crew_handles, "acc_ids": acc_ids, "handles": handles,
            "waves": sorted(set(c_wave.tolist())), "k": k}


_YT_SQL = """
WITH c AS (
    SELECT *, strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS at,
        '{"kind":"youtube#comment","etag":"' || md5(cid) || '","id":"' || cid || '","snippet":{"channelId":"'
        || vchan || '","videoId":"' || vid || '","textDisplay":' || to_json(replace(replace(replace(replace(
            replace(text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'))
        || ',"textOriginal":' || to_json(text)
        || CASE WHEN is_reply THEN ',"parentId":"' || thread || '"' ELSE '' END
        || ',"authorDisplayName":' || to_json('@' || handle)
        || ',"authorProfileImageUrl":"https://yt3.ggpht.com/ytc/' || img || '=s48-c-k-c0x00ffffff-no-rj"'
        || ',"authorChannelUrl":' || to_json('http://www.youtube.com/@' || handle)
        || ',"authorChannelId":{"value":"' || chan || '"},"canRate":true,"viewerRating":"none","likeCount":'
        || likes || ',"publishedAt":"' || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ')
        || '","updatedAt":"' || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') || '"}}' AS j
    FROM _yc
), r AS (
    SELECT thread, count(*) AS n, string_agg(j, ',' ORDER BY s, cid) AS js FROM c WHERE is_reply GROUP BY 1
), t AS (
    SELECT c.vorder, c.s, c.cid,
        '{"kind":"youtube#commentThread","etag":"' || md5('t' || c.cid) || '","id":"' || c.cid
        || '","snippet":{"channelId":"' || c.vchan || '","videoId":"' || c.vid || '","topLevelComment":' || c.j
        || ',"canReply":true,"totalReplyCount":' || coalesce(r.n, 0) || ',"isPublic":true}'
        || CASE WHEN r.n > 0 THEN ',"replies":{"comments":[' || r.js || ']}' ELSE '' END || '}' AS j
    FROM c LEFT JOIN r ON r.thread = c.cid WHERE NOT c.is_reply
), o AS (
    SELECT *, row_number() OVER (PARTITION BY vorder ORDER BY s DESC, cid) - 1 AS r,
           count(*) OVER (PARTITION BY vorder) AS threads FROM t
), pg AS (
    SELECT vorder, r // 20 AS page, any_value(threads) AS threads, string_agg(j, ',' ORDER BY r) AS items,
           count(*) AS n FROM o GROUP BY 1, 2
)
SELECT '{"kind":"youtube#commentThreadListResponse","etag":"' || md5(vorder || '/' || page)
       || CASE WHEN (page + 1) * 20 < threads THEN '","nextPageToken":"' || md5('next' || vorder || '/' || page)
          ELSE '' END
       || '","pageInfo":{"totalResults":' || n || ',"resultsPerPage":20},"items":[' || items || ']}' || chr(10)
       AS line
FROM pg ORDER BY vorder, page
"""


def _write_youtube(path: Path, yt: dict[str, Any]) -> None:
    """commentThreads.list responses (part=snippet,replies, order=time): per video, pages of 20 threads per line.

    20 is the API's default ``maxResults``; it also keeps each line well under
    the 64 KiB the JSON importers read to tell JSON lines from one document.
    """
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_yc", yt["table"])
    lines = con.sql(_YT_SQL).to_arrow_table()
    con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(_string_bytes(lines["line"].combine_chunks()))


# --------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------


def _truth(p: ScenarioParams, posts: _Posts, acc: _Accounts, ids: np.ndarray, user_ids: np.ndarray,
           genuine_idx: np.ndarray, fan: dict[str, Any], cpt: dict[str, Any], batches: list[dict[str, Any]],
           work: list[dt.date], holidays_off: list[dt.date], weekend_work: list[dt.date], amp: dict[str, Any],
           imp_idx: np.ndarray, imp_posts: np.ndarray, tg: dict[str, Any] | None, tt: dict[str, Any] | None,
           yt: dict[str, Any] | None, files: dict[str, Any]) -> dict:
    uid = user_ids.astype(str)
    pid = ids.astype(str)
    role = posts.col("role")
    author = posts.col("author")
    usernames = acc.column("username").to_pylist()

    def accounts_of(roles: tuple[str, ...]) -> list[str]:
        """Accounts that authored posts in these roles (an account that never posts is not in the data)."""
        mask = np.isin(role, [_ROLES.index(r) for r in roles])
        return sorted(uid[np.unique(author[mask])].tolist())

    cp_roles = np.isin(role, [_ROLES.index(r) for r in ("copypaste", "run", "burst")])
    cp_accounts = accounts_of(("copypaste", "run", "burst"))
    # the other platforms, with the ids their importers store: TikTok lower-cased handle, YouTube channel id
    by_platform = {"x": cp_accounts}
    posts_by_platform = {"x": sorted(pid[cp_roles].tolist())}
    organic_by_platform = {"x": accounts_of(("organic", "genuine", "fan"))}
    extra_traits: dict[str, Any] = {}
    viral = None
    if tt is not None:
        t = tt["table"]
        r = t["role"].to_numpy()
        user = np.array([u.lower() for u in t["username"].to_pylist()], dtype=object)
        vid = t["id"].to_numpy().astype(str)
        by_platform["tiktok"] = sorted(set(user[r == 2].tolist()))
        posts_by_platform["tiktok"] = sorted(vid[r == 2].tolist())
        organic_by_platform["tiktok"] = sorted(set(user[r < 2].tolist()))
        op_sound = np.isin(t["music_id"].to_numpy(), tt["op_sounds"]) & (r == 2)
        extra_traits["tiktok"] = {
            "sound_ids": [str(x) for x in tt["op_sounds"]], "sound_ids_by_set": ["before", "after"],
            "videos": int((r == 2).sum()), "videos_with_operation_sound": int(op_sound.sum()),
            "region_code": "AZ", "handle_pattern": r"^[a-z]+\.\d{6}$",
        }
        vs = t["s"].to_numpy()[r == 1]
        viral = {
            "platform": "tiktok", "kind": "organic_crowd", "music_id": str(tt["viral_sound"]),
            "hashtag": _TT_TREND_TAG, "window_start": _iso(vs.min()), "window_end": _iso(vs.max() + 1),
            "account_ids": sorted(set(user[r == 1].tolist())), "post_ids": sorted(vid[r == 1].tolist()),
        }
    if yt is not None:
        t = yt["table"]
        r = t["role"].to_numpy()
        chan = np.array(t["chan"].to_pylist(), dtype=object)
        cid = np.array(t["cid"].to_pylist(), dtype=object)
        by_platform["youtube"] = sorted(set(chan[r == 2].tolist()))
        posts_by_platform["youtube"] = sorted(cid[r == 2].tolist())
        organic_by_platform["youtube"] = sorted(set(chan[r != 2].tolist()))
        used = sorted(set(t["vorder"].to_numpy()[r == 2].tolist()))
        extra_traits["youtube"] = {
            "comments": int((r == 2).sum()), "waves": len(yt["waves"]),
            "video_ids": [yt["video_ids"][i] for i in used],
            "handle_pattern": r"^[a-z]+\d{8}$",
        }
    all_accounts = sorted(a for ids in by_platform.values() for a in ids)
    all_posts = sorted(x for ids in posts_by_platform.values() for x in ids)
    run = cpt["run"]
    burst = cpt["burst"]
    params = asdict(p)
    params = {k: (v.isoformat() if isinstance(v, dt.date) else list(v) if isinstance(v, tuple) else v)
              for k, v in params.items()}
    return {
        "generator": "swarmscope.simulate", "params": params, "files": files,
        "window": {"start": _iso(_ts(p.start)), "end": _iso(_ts(p.start) + p.days * _DAY)},
        "counts": {"x_posts": int(posts.n), "x_accounts": int(acc.n),
                   "by_role": {r: int((role == i).sum()) for i, r in enumerate(_ROLES)},
                   **({} if tt is None else {"tiktok_videos": tt["table"].num_rows,
                                             "tiktok_accounts": len(set(by_platform["tiktok"])
                                                                    | set(organic_by_platform["tiktok"]))}),
                   **({} if yt is None else {"youtube_comments": yt["table"].num_rows,
                                             "youtube_accounts": len(set(by_platform["youtube"])
                                                                     | set(organic_by_platform["youtube"]))})},
        "organic": {
            "platform": "x", "platforms": sorted(organic_by_platform),
            "account_ids": sorted(a for ids in organic_by_platform.values() for a in ids),
            "accounts_per_platform": {k: len(v) for k, v in organic_by_platform.items()},
            "genuine_entities": [{"account_id": uid[i], "handle": usernames[i], "name": _GENUINE[j][1],
                                  "domain": _GENUINE[j][3]} for j, i in enumerate(genuine_idx)],
        },
        "fan_crowd": {
            "platform": "x", "kind": "organic_crowd", "hashtag": p.fan_hashtag,
            "window_start": _iso(fan["start"]), "window_end": _iso(fan["end"]),
            "account_ids": sorted(set(uid[fan["accounts"]].tolist())),
            "post_ids": sorted(pid[fan["posts"]].tolist()),
        },
        "tiktok_viral_sound": viral,
        "operations": [
            {
                "name": "copy-paste network", "type": "copy_paste", "platform": "x",
                "platforms": sorted(by_platform), "account_ids": all_accounts,
                "accounts_per_platform": {k: len(v) for k, v in by_platform.items()},
                "account_ids_by_platform": by_platform, "post_ids": all_posts,
                "posts_per_platform": {k: len(v) for k, v in posts_by_platform.items()},
                "post_ids_by_platform": posts_by_platform,
                "traits": {
                    "near_duplicate_texts": True,
                    "utc_offset_hours": p.operator_utc_offset, "office_hours_local": list(p.office_hours),
                    "weekdays_only": True, "holiday_country": p.holiday_country,
                    "holidays_off": [d.isoformat() for d in holidays_off],
                    "working_weekend_days": [d.isoformat() for d in weekend_work],
                    "working_days": len(work),
                    "creation_batches": [{"first_day": b["first_day"], "last_day": b["last_day"],
                                          "account_ids": sorted(uid[b["accounts"]].tolist())} for b in batches],
                    "handle_pattern": r"^[a-z]+\d{8}$",
                    "narrative_switch": {
                        "date": cpt["switch"].isoformat(), "election_date": p.election_date.isoformat(),
                        "hashtags_before": cpt["hashtags_before"], "hashtags_after": cpt["hashtags_after"],
                    },
                    "run": {"account_id": uid[run["account"]], "handle": usernames[run["account"]],
                            "count": p.run_length, "text": _RUN_TEXT, "start": _iso(run["start"]),
                            "end": _iso(run["end"]), "post_ids": pid[run["posts"]].tolist()},
                    "burst": {"hashtag": p.burst_hashtag, "count": p.burst_posts,
                              "window_start": _iso(burst["start"]), "window_end": _iso(burst["end"]),
                              "post_ids": sorted(pid[burst["posts"]].tolist())},
                    "waves": len(cpt["waves"]),
                    **extra_traits,
                    "telegram_channel": None if tg is None else {
                        "platform": "telegram", "channel_id": tg["channel_id"], "account_id": tg["account_id"],
                        "from_id": tg["from_id"],
                        "name": tg["name"], "messages": tg["messages"],
                    },
                },
            },
            {
                "name": "co-repost amplifier", "type": "fast_corepost", "platform": "x", "platforms": ["x"],
                "account_ids": accounts_of(("amplifier",)),
                "accounts_per_platform": {"x": len(accounts_of(("amplifier",)))},
                "post_ids": sorted(pid[amp["posts"]].tolist()),
                "traits": {"target_post_ids": sorted(pid[amp["targets"]].tolist()),
                           "max_spread_seconds": p.amplifier_spread_seconds, "reposts": int(len(amp["posts"]))},
            },
            {
                "name": "impersonators", "type": "impersonation", "platform": "x", "platforms": ["x"],
                "account_ids": sorted(uid[imp_idx].tolist()), "accounts_per_platform": {"x": len(imp_idx)},
                "post_ids": sorted(pid[imp_posts].tolist()),
                "traits": {
                    "domains": list(_FAKE_DOMAINS),
                    "impersonations": [
                        {"account_id": uid[imp_idx[i]], "handle": h, "name": nm, "trick": trick,
                         "imitates": {"account_id": uid[genuine_idx[j]], "handle": _GENUINE[j][0],
                                      "name": _GENUINE[j][1]}}
                        for i, (h, nm, j, trick) in enumerate(_IMPERSONATORS)
                    ],
                },
            },
        ],
    }


# --------------------------------------------------------------------------
# Bulk X v2 posts for the ingest benchmark
# --------------------------------------------------------------------------


def generate_x_v2_posts(path: Path, n_posts: int, seed: int) -> Path:
    """Write ``n_posts`` organic tweets as twarc2 pages (100 tweets, includes.users/tweets).

    The ingest benchmark's input: the organic crowd alone (seven languages,
    reposts, replies, hashtags, links), one account per 25 posts, over 30 days.
    """
    if n_posts < 1:
        raise ValueError("n_posts must be positive")
    path = Path(path)
    rng = np.random.default_rng([seed, 1])
    start = _ts(dt.date(2024, 1, 1))
    acc, posts = _Accounts(), _Posts()
    people = _organic_accounts(rng, acc, max(50, n_posts // 25), before=start)
    domains = list(_SHARED_DOMAINS) + [L.news_domain for L in LANGS.values()]
    _organic_posts(rng, posts, people, n_posts, start, 30, 0.3, 0.08, domains)
    ids = _post_ids(posts)
    _write_x(path, posts, acc, ids, _user_ids(acc), retrieved=start + 31 * _DAY, rng=rng, query="lang:en OR lang:ru")
    return path


__all__ = ["LANGS", "Scenario", "ScenarioParams", "generate", "generate_x_v2_posts"]
